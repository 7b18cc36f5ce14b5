"""The ground floor: roles, scoping, money, geo, SQL and task plumbing every app shares."""

import sqlite3

from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_defaults(sender, using, **kwargs):
    # Roles and the default beat schedule are rows, not code: migrate creates
    # the missing ones and never touches what HQ edited in the admin.
    from apps.core.roles import roles_ensure_groups
    from apps.core.schedules import periodic_tasks_ensure

    roles_ensure_groups(using=using)
    periodic_tasks_ensure(using=using)


def _sqlite_strict_quotes(sender, connection, **kwargs):
    # SQLite reads a double-quoted name it cannot resolve as a string literal,
    # so a misspelt identifier in raw SQL would quietly compare against text
    # instead of failing. PostgreSQL never does; make SQLite refuse it too.
    if connection.vendor == "sqlite":
        for option in (sqlite3.SQLITE_DBCONFIG_DQS_DML, sqlite3.SQLITE_DBCONFIG_DQS_DDL):
            connection.connection.setconfig(option, False)


class CoreConfig(AppConfig):
    name = "apps.core"
    verbose_name = _("Core")

    def ready(self):
        from rest_framework import serializers

        from apps.core.api import ChoiceField

        # DRF's documented hook: every ModelSerializer's choice field lists the
        # valid values when it refuses one.
        serializers.ModelSerializer.serializer_choice_field = ChoiceField
        post_migrate.connect(_ensure_defaults, sender=self, dispatch_uid="core_ensure_defaults")
        connection_created.connect(_sqlite_strict_quotes, dispatch_uid="core_sqlite_strict_quotes")
        from apps.core.lookup_cache import token_cache_connect

        token_cache_connect()
        # Connects the task metrics and the request id's way into task messages,
        # in workers too, where no middleware ever imports it.
        from apps.core import (
            checks,  # noqa: F401 - registers the system checks
            observability,  # noqa: F401
        )
