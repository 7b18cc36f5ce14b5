"""Request checks that hold for every URL of the site, API and admin alike."""

from django.http import HttpResponseBadRequest, JsonResponse

NUL_IN_URL_MESSAGE = "The URL contains a NUL character."


class RejectNulInUrlMiddleware:
    """Answer 400 to a URL whose path or query string carries a NUL character.

    No text the project stores can hold one (PostgreSQL refuses it), so such a
    value can never name a row; left through, a lookup or search with it fails
    in the database driver as a server error instead of a client error.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": NUL_IN_URL_MESSAGE}, status=400)
            return HttpResponseBadRequest(NUL_IN_URL_MESSAGE)
        return self.get_response(request)
