"""Request body parsers of the API.

Kept apart from ``apps.core.api``: DRF imports its parser setting while
``rest_framework.views`` loads, which ``apps.core.api`` itself imports.
"""

import io

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, parsers, status

# The largest body the API takes. A sign-up is a few hundred bytes and an
# order with a thousand lines about 150 KB; anything bigger is a mistake or an
# attack, refused before it is decoded. (Django refuses bodies over
# DATA_UPLOAD_MAX_MEMORY_SIZE, 2.5 MB, before the view; the handler answers
# that as a 413 too.)
MAX_BODY_BYTES = 1024 * 1024
# The deepest nesting the API takes. An order's lines are the deepest body
# (object → list → object); a body nested thousands deep would exhaust the
# decoder's recursion (a server error) or tie up a worker walking it.
MAX_DEPTH = 8


class RequestBodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "body_too_large"


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with a size and a depth limit and no NUL characters anywhere.

    PostgreSQL text cannot hold NUL; DRF's CharField refuses it, but a slug
    lookup or a key passed through would reach the driver and fail as a 500.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read(MAX_BODY_BYTES + 1)
        if len(body) > MAX_BODY_BYTES:
            raise RequestBodyTooLarge()
        try:
            data = super().parse(io.BytesIO(body), media_type, parser_context)
        except RecursionError as exc:
            raise _too_deep() from exc
        _check_depth_and_nul(data)
        return data


def _too_deep() -> exceptions.ParseError:
    return exceptions.ParseError(
        _("The body is nested more than %(depth)d levels deep.") % {"depth": MAX_DEPTH}
    )


def _check_depth_and_nul(data) -> None:
    """Walk the parsed body without recursion: refuse it too deep or holding a NUL."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise exceptions.ParseError(_("Text in the body may not contain NUL characters."))
        elif isinstance(value, (dict, list)):
            if depth > MAX_DEPTH:
                raise _too_deep()
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                pending.append((key, depth + 1))
                pending.append((item, depth + 1))
