"""The public sign-up pages: /join/…"""

from django.urls import path

from apps.recruiting import views

app_name = "recruiting"
urlpatterns = [
    path("welcome/<str:token>/", views.welcome, name="welcome"),
    path("brand/<str:brand_code>/", views.join_brand, name="join-brand"),
    path("<str:token>/", views.join, name="join"),
]
