"""Site-wide views: the health check and the API's JSON error pages."""

import logging

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


@require_GET
def health(request):
    """Answer 200 when the database answers: for load balancers and process managers."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        logger.exception("health check: the database does not answer")
        return JsonResponse({"database": "unavailable"}, status=503)
    return JsonResponse({"database": "ok"})


# Django answers these itself, outside DRF: a path that matches no route
# (``/api/v1/members/1.5/``), a request it finds suspicious (a bad Host
# header, a body over DATA_UPLOAD_MAX_MEMORY_SIZE read outside a view), a CSRF
# failure, an exception no handler caught. Under /api/ the answer is JSON like
# the API's own, so clients that read the body as JSON never get HTML; pages
# stay HTML.


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def bad_request(request, exception):
    if _is_api(request):
        return JsonResponse({"detail": _("Bad request.")}, status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception):
    if _is_api(request):
        return JsonResponse(
            {"detail": _("You do not have permission to perform this action.")}, status=403
        )
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception):
    if _is_api(request):
        return JsonResponse({"detail": _("Not found.")}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return JsonResponse({"detail": _("A server error occurred.")}, status=500)
    return defaults.server_error(request)
