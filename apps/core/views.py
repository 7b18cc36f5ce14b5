"""Site-wide views: the health check and the API's JSON 404."""

import logging

from django.db import DatabaseError, connection
from django.http import JsonResponse
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


def page_not_found(request, exception):
    """Answer an unknown URL under /api/ in JSON, like the API's own 404s; pages stay HTML.

    A path that matches no route (``/api/v1/members/1.5/``) never reaches DRF,
    so Django's HTML page would break clients that read the body as JSON.
    """
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)
