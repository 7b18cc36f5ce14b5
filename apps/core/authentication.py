"""How API callers sign in: a token, sent as ``Token`` or ``Bearer``."""

from django.utils.translation import gettext
from rest_framework import authentication, exceptions


class TokenAuthentication(authentication.TokenAuthentication):
    """``Authorization: Token <key>``, or ``Bearer <key>`` as many HTTP clients send it.

    Any other scheme is a 401 naming the expected one, rather than DRF's
    "credentials were not provided" (they were, in a form not taken).
    """

    SCHEMES = (b"token", b"bearer")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header:
            return None
        if header[0].lower() not in self.SCHEMES:
            scheme = header[0].decode("latin-1")[:20]
            raise exceptions.AuthenticationFailed(
                gettext(
                    "Authorization scheme '%(scheme)s' is not taken: "
                    "send 'Authorization: Token <key>' (or 'Bearer <key>')."
                )
                % {"scheme": scheme}
            )
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                gettext("Send 'Authorization: Token <key>': the scheme, one space, the key.")
            )
        try:
            key = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed(
                gettext("The token holds characters a token never has.")
            ) from exc
        return self.authenticate_credentials(key)
