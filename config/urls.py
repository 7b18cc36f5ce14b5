from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from apps.commissions.admin_views import commission_report_view
from apps.core.views import health
from apps.dashboards.metrics import metrics_view
from apps.guides.login_views import StaffSetPasswordView
from apps.recruiting import views as recruiting_views

handler400 = "apps.core.views.bad_request"
handler403 = "apps.core.views.permission_denied"
handler404 = "apps.core.views.page_not_found"
handler500 = "apps.core.views.server_error"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("health/", health, name="health"),
    path("metrics", metrics_view, name="metrics"),
    path("i18n/", include("django.conf.urls.i18n")),
    path(
        f"{settings.ADMIN_URL}commissions/report/",
        admin.site.admin_view(commission_report_view),
        name="commission-report",
    ),
    path(
        f"{settings.ADMIN_URL}recruit/qr/<str:token>.png",
        admin.site.admin_view(recruiting_views.qr_code_png),
        name="recruit-qr-png",
    ),
    path(
        f"{settings.ADMIN_URL}recruit/qr/<str:token>.svg",
        admin.site.admin_view(recruiting_views.qr_code_svg),
        name="recruit-qr-svg",
    ),
    path(
        f"{settings.ADMIN_URL}recruit/poster/<str:token>/",
        admin.site.admin_view(recruiting_views.qr_poster),
        name="recruit-poster",
    ),
    path(f"{settings.ADMIN_URL}my/", include("apps.dashboards.urls")),
    path(settings.ADMIN_URL, admin.site.urls),
    path("join/", include("apps.recruiting.urls")),
    path(
        "accounts/set-password/<uidb64>/<token>/",
        StaffSetPasswordView.as_view(),
        name="staff-set-password",
    ),
    path("api/v1/", include("config.api_router")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file of its own
    # rather than inline, which the Content-Security-Policy would block.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]

if settings.BENCH_ANCHOR_ENDPOINT:
    # The bare insert ``bench load`` measures the API against (apps/bench/anchor.py).
    from apps.bench.anchor import AnchorView

    urlpatterns.append(path("api/v1/bench/anchor/", AnchorView.as_view(), name="bench-anchor"))
