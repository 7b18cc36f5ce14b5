"""Request body parsers of the API.

Kept apart from ``apps.core.api``: DRF imports its parser setting while
``rest_framework.views`` loads, which ``apps.core.api`` itself imports.
"""

from rest_framework import exceptions, parsers


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing text with NUL characters anywhere in the body.

    PostgreSQL text cannot hold NUL; DRF's CharField refuses it, but a slug
    lookup or a key passed through would reach the driver and fail as a 500.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        if _contains_nul(data):
            raise exceptions.ParseError("Text in the body may not contain NUL characters.")
        return data


def _contains_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(key) or _contains_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_contains_nul(item) for item in value)
    return False
