"""What every API request reads again, kept in the shared cache: tokens and business codes.

An integration's request names itself by its token and its brand, store and
guide by their codes: five queries before any work, on every request. Kept
in Redis (the cache every web process shares) they cost a round trip each
and no query. Every kept row is forgotten when it changes: a ``post_save``
or ``post_delete`` of the row (and of a token's user, or its groups) deletes
its key at once and again when the transaction commits, so no request can
keep reading what a committed change replaced. A write that bypasses the
model's signals (``QuerySet.update``) must call ``lookup_cache_forget``.

Nothing is kept unless ``API_LOOKUP_CACHE_SECONDS`` is above 0: the default
is 0 unless the cache is Redis, since a per-process memory cache could not
be told of a change made in another process.
"""

import hashlib
import logging
import os

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

logger = logging.getLogger(__name__)

# Bumped when the shape of what is kept changes, so that a release never reads
# its predecessor's pickles.
CACHE_GENERATION = 1
_MISSING = object()
_registered: set[tuple[type, str]] = set()


def lookup_cache_seconds() -> int:
    return int(getattr(settings, "API_LOOKUP_CACHE_SECONDS", 0) or 0)


_database_identity: str | None = None


def database_identity() -> str:
    """Name this process's database so that no other one's rows are ever read from the cache.

    Keys carry it: a Redis shared by several databases (a test run's, a
    restored copy, another environment) then never hands one database's ids
    to another. PostgreSQL: server, name and the database's oid (new when the
    database is created again); SQLite: the file's device and inode. Read once
    a process.
    """
    global _database_identity
    if _database_identity is None:
        db = connection.settings_dict
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT oid FROM pg_database WHERE datname = current_database()")
                (oid,) = cursor.fetchone()
            identity = f"pg:{db['HOST']}:{db['PORT']}:{db['NAME']}:{oid}"
        else:
            try:
                stat = os.stat(db["NAME"])
                identity = f"{connection.vendor}:{db['NAME']}:{stat.st_dev}:{stat.st_ino}"
            except (OSError, TypeError):
                identity = f"{connection.vendor}:{db['NAME']}"
        _database_identity = hashlib.sha256(identity.encode()).hexdigest()[:12]
    return _database_identity


def _key(model, field: str, value) -> str:
    digest = hashlib.sha256(str(value).encode()).hexdigest()[:32]
    return (
        f"lookup:{CACHE_GENERATION}:{database_identity()}:{model._meta.label_lower}:{field}:"
        f"{digest}"
    )


def cached_lookup(model, field: str, value, load):
    """Return ``load()`` (a row or None), kept under (model, field, value) when caching is on.

    ``model`` must be registered (``lookup_cache_register``) so that its
    changes are forgotten. A None (no such row) is not kept. With the cache
    unavailable the row is read from the database.
    """
    seconds = lookup_cache_seconds()
    if seconds <= 0:
        return load()
    key = _key(model, field, value)
    try:
        found = cache.get(key, _MISSING)
    except Exception:  # the cache is away: read the database
        logger.warning("lookup cache unavailable", exc_info=True)
        return load()
    if found is not _MISSING:
        return found
    found = load()
    if found is not None:
        try:
            cache.set(key, found, timeout=seconds)
        except Exception:
            logger.warning("lookup cache unavailable", exc_info=True)
    return found


def lookup_cache_forget(model, field: str, value) -> None:
    """Forget what is kept for (model, field, value), now and when the transaction commits."""
    if lookup_cache_seconds() <= 0:
        return
    key = _key(model, field, value)

    def forget():
        try:
            cache.delete(key)
        except Exception:  # kept at most API_LOOKUP_CACHE_SECONDS
            logger.warning("lookup cache unavailable, %s left to expire", key, exc_info=True)

    forget()
    transaction.on_commit(forget)


def lookup_cache_register(model, field: str) -> None:
    """Forget a kept ``model`` row, looked up by ``field``, whenever it is saved or deleted."""
    if (model, field) in _registered:
        return
    _registered.add((model, field))

    def changed(sender, instance, **kwargs):
        lookup_cache_forget(sender, field, getattr(instance, field))

    uid = f"lookup-cache:{model._meta.label_lower}:{field}"
    post_save.connect(changed, sender=model, weak=False, dispatch_uid=uid)
    post_delete.connect(changed, sender=model, weak=False, dispatch_uid=uid)


def token_cache_connect() -> None:
    """Forget a kept token when it is deleted, or its user or the user's groups change."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    user_model = get_user_model()

    def forget_user_tokens(user_id):
        for key in Token.objects.filter(user_id=user_id).values_list("key", flat=True):
            lookup_cache_forget(Token, "key", key)

    def token_deleted(sender, instance, **kwargs):
        lookup_cache_forget(Token, "key", instance.key)

    def user_saved(sender, instance, **kwargs):
        forget_user_tokens(instance.pk)

    def groups_changed(sender, instance, action, reverse, pk_set, **kwargs):
        if not reverse:  # a user's groups changed
            if action.startswith("post_"):
                forget_user_tokens(instance.pk)
            return
        if action in ("post_add", "post_remove"):  # a group's users changed
            user_ids = pk_set
        elif action == "pre_clear":  # afterwards nobody can tell whose they were
            user_ids = user_model.objects.filter(groups=instance).values_list("pk", flat=True)
        else:
            return
        for user_id in user_ids:
            forget_user_tokens(user_id)

    # The receivers are closures: held strongly, or they would be collected at once.
    for signal, receiver, sender, uid in (
        (post_save, token_deleted, Token, "token-saved"),
        (post_delete, token_deleted, Token, "token"),
        (post_save, user_saved, user_model, "user"),
        (post_delete, user_saved, user_model, "user-deleted"),
        (m2m_changed, groups_changed, user_model.groups.through, "groups"),
    ):
        signal.connect(receiver, sender=sender, weak=False, dispatch_uid=f"lookup-cache:{uid}")
