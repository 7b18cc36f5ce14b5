"""Ending a person's access: the auth side of staff leaving, for any login.

A login's access lives in three places: the ``is_active`` flag that every
authentication backend checks, the sessions of the admin, and the API
tokens. Sessions and tokens are deleted outright, so that enabling the login
again (a returning guide) brings none of them back: the person signs in
afresh.
"""

from django.db import transaction
from rest_framework.authtoken.models import Token

from apps.core.models import UserSession


def user_sessions_end(user) -> int:
    """Delete every session of ``user``; return how many there were."""
    deleted, _by_model = UserSession.objects.filter(user_id=user.pk).delete()
    return deleted


def user_tokens_revoke(user) -> int:
    """Delete the API tokens of ``user``; return how many there were."""
    deleted, _by_model = Token.objects.filter(user_id=user.pk).delete()
    return deleted


@transaction.atomic
def user_signed_out_everywhere(user) -> None:
    """End every session and API token of ``user`` (the login itself stays as it is)."""
    user_sessions_end(user)
    user_tokens_revoke(user)


@transaction.atomic
def user_access_end(user) -> None:
    """Sign ``user`` out everywhere and disable the login."""
    user_signed_out_everywhere(user)
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
