"""How API callers sign in: a token sent as ``Token`` or ``Bearer``, read once, then cached."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from apps.core.lookup_cache import cached_lookup
from apps.core.roles import user_roles


class CachedTokenAuthentication(authentication.TokenAuthentication):
    """``Authorization: Token <key>``, or ``Bearer <key>`` as many HTTP clients send it.

    Any other scheme is a 401 naming the expected one, rather than DRF's
    "credentials were not provided" (they were, in a form not taken).

    Token, user and role names are kept in the lookup cache
    (``apps.core.lookup_cache``): a deleted token, a saved user (deactivated,
    made superuser) and a change of the user's groups forget what was kept,
    so access ends as at once as without the cache.
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

    def authenticate_credentials(self, key):
        token = cached_lookup(Token, "key", key, lambda: _token_with_roles(key))
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (token.user, token)


def _token_with_roles(key: str) -> Token | None:
    token = Token.objects.select_related("user").filter(key=key).first()
    if token is not None:
        user_roles(token.user)  # kept on the user (``_role_names``), and so in the cache
    return token
