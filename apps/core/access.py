"""Ending and restoring a person's access: the auth side of staff leaving and returning.

A login's access lives in three places: the ``is_active`` flag that every
authentication backend checks, the sessions of the admin, and the API
tokens. Ending access clears all three at once, so a departed guide's open
browser and their phone's token stop working on the next request.
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
def user_access_end(user, *, keep_login: bool = False) -> None:
    """End the sessions and API tokens of ``user`` and, unless ``keep_login``, disable the login.

    ``keep_login`` is for a login that still serves another role (a region
    manager whose staff record ended): they sign in again and see what is
    left to them.
    """
    user_sessions_end(user)
    user_tokens_revoke(user)
    if not keep_login and user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])


def user_access_restore(user) -> None:
    """Enable the login of ``user`` again; they sign in afresh (no session or token comes back)."""
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
