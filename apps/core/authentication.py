"""API tokens read with their user and roles once, then from the cache."""

from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from apps.core.lookup_cache import cached_lookup
from apps.core.roles import user_roles


class CachedTokenAuthentication(TokenAuthentication):
    """``TokenAuthentication`` keeping token, user and role names (``apps.core.lookup_cache``).

    A deleted token, a saved user (deactivated, made superuser) and a change
    of the user's groups forget what was kept, so access ends as at once as
    without the cache.
    """

    def authenticate_credentials(self, key):
        token = cached_lookup(Token, "key", key, lambda: _token_with_roles(key))
        if token is None:
            raise AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise AuthenticationFailed(_("User inactive or deleted."))
        return (token.user, token)


def _token_with_roles(key: str) -> Token | None:
    token = Token.objects.select_related("user").filter(key=key).first()
    if token is not None:
        user_roles(token.user)  # kept on the user (``_role_names``), and so in the cache
    return token
