"""Test settings: fast hashing, eager Celery unless a test asks for a broker."""

import os

from config.embedded_redis import EmbeddedRedis

from .base import *  # noqa: F403
from .base import DATABASES, EMBEDDED_REDIS, VAR_DIR, env

SECRET_KEY = env("DJANGO_SECRET_KEY", default="test-only-not-secret")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The SQLite test database is a file, not memory, so a worker process started
# by a test can open the same database.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}

# Tasks queued on commit run inline in tests; the tests that need a real
# worker switch this off for their duration. A beat process started by a test
# (tests/worker.py) must send its messages to the broker: TEST_TASKS_EAGER=false.
CELERY_TASK_ALWAYS_EAGER = env.bool("TEST_TASKS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True
# A test's worker processes consume queues of their own (tests/worker.py):
# the tasks they queue themselves go there too, never to a shared broker's
# real queues.
TASK_QUEUE_PREFIX = env("TEST_TASK_QUEUE_PREFIX", default="")
# With no CELERY_BROKER_URL those tests get a Redis of their own, started on
# first use (tests/worker.py) on a socket of this test run, never the
# embedded Redis a ``make run`` of the same checkout may be using.
TEST_REDIS = (
    EmbeddedRedis(VAR_DIR / f"test-redis-{os.getpid()}", persistent=False)
    if EMBEDDED_REDIS is not None
    else None
)
if TEST_REDIS is not None:
    CELERY_BROKER_URL = TEST_REDIS.broker_url
CELERY_RESULT_BACKEND = "cache+memory://"

# Rate-limit counters in memory, emptied before each test (tests/conftest.py):
# a Redis cache would carry counts from one test into the next.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Tokens and codes are read from the database, as with a per-process cache in
# production; tests/core/test_lookup_cache.py switches the cache on.
API_LOOKUP_CACHE_SECONDS = 0
# That cache is per process, so a worker process started by a test could not
# clear a coalesced run's key: each item keeps its own message. Tests of
# coalesced runs switch this on within one process.
TASK_COALESCING = False

# Text messages stay in memory (apps.core.sms.outbox), emptied before each test.
SMS_BACKEND = "apps.core.sms.backends.locmem.SmsBackend"
