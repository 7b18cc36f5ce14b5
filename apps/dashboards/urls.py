"""The phone pages, under the admin's address and login (see config/urls.py)."""

from django.contrib import admin
from django.urls import path

from apps.dashboards import pages

urlpatterns = [
    path("members/", admin.site.admin_view(pages.members_view), name="phone-members"),
    path(
        "members/<int:membership_id>/",
        admin.site.admin_view(pages.member_view),
        name="phone-member",
    ),
    path("follow-ups/", admin.site.admin_view(pages.follow_ups_view), name="phone-follow-ups"),
    path("commission/", admin.site.admin_view(pages.commission_view), name="phone-commission"),
    path("recruit/", admin.site.admin_view(pages.recruit_view), name="phone-recruit"),
]
