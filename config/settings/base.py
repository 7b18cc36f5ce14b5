"""Settings shared by every environment, read from environment variables.

With no environment set the project runs on embedded defaults: SQLite and an
embedded Redis (``config.embedded_redis``) under ``var/``. ``DATABASE_URL`` and
``CELERY_BROKER_URL`` switch to PostgreSQL and an external Redis.
"""

import datetime as dt
import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from config.embedded_redis import SUPERVISED_ENV, EmbeddedRedis

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
env.read_env(BASE_DIR / ".env")

# GENERAL
# ------------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
TIME_ZONE = env("TIME_ZONE", default="Asia/Shanghai")
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "config" / "locale"]
USE_I18N = True
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
ROOT_URLCONF = "config.urls"
ADMIN_URL = env("DJANGO_ADMIN_URL", default="admin/")
WSGI_APPLICATION = "config.wsgi.application"

# DATABASES
# ------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A host that dies in the middle of a transaction (a nightly run, a batch of
# assignments) leaves its locks to PostgreSQL, which must notice the client is
# gone: at once when the host's kernel closes the socket (the process was
# killed), otherwise (power lost, network cut) only through TCP keepalives,
# after two hours with Linux's defaults. The session asks for keepalives that
# give up on a silent client within about this many seconds, and for a check
# of the client every few seconds while a statement runs, so its transaction
# is rolled back and its locks are freed for the other hosts. 0 leaves the
# server's settings (a pooler refusing startup options, PostgreSQL < 14).
DATABASE_DEAD_CLIENT_SECONDS = env.int("DATABASE_DEAD_CLIENT_SECONDS", default=60)
if DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql") and (
    DATABASE_DEAD_CLIENT_SECONDS > 0
):
    _idle = max(1, DATABASE_DEAD_CLIENT_SECONDS // 2)
    _interval = max(1, (DATABASE_DEAD_CLIENT_SECONDS - _idle) // 5)
    _check_ms = 1000 * max(1, min(10, DATABASE_DEAD_CLIENT_SECONDS // 6))
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = " ".join(
        filter(None, [
            _options.get("options", ""),
            f"-c tcp_keepalives_idle={_idle}",
            f"-c tcp_keepalives_interval={_interval}",
            "-c tcp_keepalives_count=5",
            f"-c client_connection_check_interval={_check_ms}",
        ])
    )  # fmt: skip
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one SQLite file: WAL lets readers run beside
    # the single writer, IMMEDIATE transactions take the write lock up front
    # instead of failing on upgrade, and the timeout waits out the other writer.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

# CACHES
# ------------------------------------------------------------------------------
# Holds the API's rate-limit counters and the coalesced runs' "a run is
# queued" keys, which every web worker and Celery worker must share: Redis
# serves as the cache whenever there is one. CACHE_URL, else the Celery broker
# when that is Redis, else the embedded Redis (keys prefixed apart from
# Celery's). Only a command run by hand while the embedded Redis is stopped
# keeps them in its own memory (see CELERY below).
_BROKER_URL = env("CELERY_BROKER_URL", default="")
EMBEDDED_REDIS = None if _BROKER_URL else EmbeddedRedis(VAR_DIR / "redis")
# The supervisor (``make run``) starts the embedded Redis before anything it
# supervises; a command run by hand (``seed_demo``, ``settle``, a shell) finds
# it running or not.
EMBEDDED_REDIS_UP = EMBEDDED_REDIS is not None and (
    env.bool(SUPERVISED_ENV, default=False) or EMBEDDED_REDIS.is_up()
)
if env("CACHE_URL", default=""):
    CACHES = {"default": env.cache("CACHE_URL")}
elif _BROKER_URL.startswith(("redis://", "rediss://")) or EMBEDDED_REDIS_UP:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _BROKER_URL or EMBEDDED_REDIS.cache_url,
            "KEY_PREFIX": "scrm-cache",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# API tokens and brand, store and guide codes read once and kept in the cache
# (apps/core/lookup_cache.py), forgotten when they change. Only with Redis as
# the cache: a per-process memory cache would not hear of another process's
# changes. Seconds a row is kept at most; 0 keeps nothing.
API_LOOKUP_CACHE_SECONDS = env.int(
    "API_LOOKUP_CACHE_SECONDS",
    default=300 if "redis" in CACHES["default"]["BACKEND"].lower() else 0,
)

# Serve the bare insert endpoint that ``bench load`` compares the API with;
# off everywhere but the stack a benchmark starts.
BENCH_ANCHOR_ENDPOINT = env.bool("BENCH_ANCHOR_ENDPOINT", default=False)

# APPS
# ------------------------------------------------------------------------------
DJANGO_APPS = [
    "unfold",
    "unfold.contrib.filters",
    "unfold.contrib.simple_history",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
THIRD_PARTY_APPS = [
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_celery_results",
    "simple_history",
    "axes",
]
# apps.core comes last: its post_migrate hook grants the roles' permissions,
# which exist only once every other app has migrated.
LOCAL_APPS = [
    "apps.stores",
    "apps.guides",
    "apps.customers",
    "apps.commissions",
    "apps.recruiting",
    "apps.engagement",
    "apps.incentives",
    "apps.dashboards",
    "apps.demo",
    "apps.bench",
    "apps.core",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

# MIDDLEWARE
# ------------------------------------------------------------------------------
MIDDLEWARE = [
    # First: its request id is on every log line below, its timing covers them all.
    "apps.core.observability.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "apps.core.middleware.RejectNulInUrlMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Records the signed-in user (admin session or API token) on history rows.
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its lockout page.
    "axes.middleware.AxesMiddleware",
]

# TEMPLATES AND STATIC FILES
# ------------------------------------------------------------------------------
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
            ],
        },
    },
]
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# CONTENT SECURITY POLICY (Django's own, django.middleware.csp)
# ------------------------------------------------------------------------------
# Every page loads only what the site serves itself (unfold, Swagger UI and
# Redoc come from static files, no CDN), so injected markup can neither run a
# script nor send data elsewhere. Two allowances the admin needs: unfold's
# Alpine.js evaluates its x-data/x-show expressions with Function()
# ('unsafe-eval'; inline <script> and on* attributes stay blocked), and
# unfold's theme colours and the bar charts are inline styles. A page of our
# own that needs an inline script gives it the request's nonce
# (<script nonce="{{ csp_nonce }}">).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.UNSAFE_EVAL, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "worker-src": [CSP.SELF, "blob:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# AUTH
# ------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes checks every password login first: AXES_FAILURE_LIMIT failures
# for one username from one address lock that pair out (even with the right
# password) for AXES_COOLOFF_MINUTES. Keyed on the pair, so a stranger typing
# a manager's name cannot lock them out everywhere. AXES_ADDRESS_FAILURE_LIMIT
# failures from one address, whatever the usernames, lock the address: one
# password tried across many usernames. It is higher because a store's guides
# share the shop's address: 30 lets six people each use up their own five
# tries, and holds a guessing script to 30 passwords per address per cool-off.
# (apps.core.login_attempts gives each set its limit.) The attempts are rows
# in the database, shared by every web worker on SQLite and PostgreSQL alike.
# API tokens never pass through a password check and are not affected.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_ADDRESS_FAILURE_LIMIT = env.int("AXES_ADDRESS_FAILURE_LIMIT", default=30)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = "apps.core.login_attempts.LoginAttemptHandler"
# Behind load balancers: how many proxies append to X-Forwarded-For in front
# of the web processes. 0 (no proxy) ignores the header, which any client can
# write. Lockouts, sign-up limits and throttles key on the address it gives
# (apps.core.client_ip); the API's throttles read DRF's NUM_PROXIES, the same.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "apps.core.client_ip.client_ip"
# Database sessions with the user on each row (apps.core.models.UserSession),
# so that deactivating a guide ends their sessions in one statement.
SESSION_ENGINE = "apps.core.sessions"
LOGIN_URL = "admin:login"
# Unfold's login form drops the ``next`` field Django's admin would add, so a
# login from a bookmarked /admin/login/ lands here rather than on a 404.
LOGIN_REDIRECT_URL = "admin:index"

# LOGGING
# ------------------------------------------------------------------------------
# LOG_FORMAT=json: one JSON object a line, with the request id and the task id
# (apps.core.observability), so one sign-up can be followed from its request
# through its task. The default stays readable in a terminal.
LOG_FORMAT = env("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"ids": {"()": "apps.core.observability.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "apps.core.observability.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["ids"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

# METRICS (/metrics, Prometheus)
# ------------------------------------------------------------------------------
# Every process of a host (gunicorn workers, Celery pool processes) writes its
# counters under this folder and /metrics sums them; config.supervisor empties
# it when a run starts. Set before anything imports prometheus-client.
PROMETHEUS_MULTIPROC_DIR = env("PROMETHEUS_MULTIPROC_DIR", default=str(VAR_DIR / "prometheus"))
os.environ["PROMETHEUS_MULTIPROC_DIR"] = PROMETHEUS_MULTIPROC_DIR
Path(PROMETHEUS_MULTIPROC_DIR).mkdir(parents=True, exist_ok=True)
# Who may read /metrics: these client addresses (the connecting address,
# never a forwarded header), or any caller with "Authorization: Bearer <token>".
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])
METRICS_TOKEN = env("METRICS_TOKEN", default="")

# ERROR REPORTING (Sentry), on only when SENTRY_DSN is set
# ------------------------------------------------------------------------------
SENTRY_DSN = env("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env("SENTRY_ENVIRONMENT", default="production"),
        integrations=[DjangoIntegration(), CeleryIntegration()],
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        # Members' phones and locations never leave for a third party.
        send_default_pii=False,
    )

# AUDIT (django-simple-history)
# ------------------------------------------------------------------------------
# History is read, never replayed: a revert would write a store or guide past
# the services that move members and bump the store network version.
SIMPLE_HISTORY_REVERT_DISABLED = True

# DJANGO REST FRAMEWORK
# ------------------------------------------------------------------------------
_signup_rate = env("API_SIGNUP_THROTTLE_RATE", default="600/min").strip()

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": (
        "apps.core.authentication.CachedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ),
    "DEFAULT_PERMISSION_CLASSES": ("rest_framework.permissions.IsAuthenticated",),
    # JSON only: form encoding reads an omitted boolean as false, which would
    # quietly create inactive stores and guides.
    "DEFAULT_PARSER_CLASSES": ("apps.core.parsers.JSONParser",),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # apps.core.listing: one query vocabulary (date_from/date_to, ordering,
    # page_size) on every list, and an unknown query parameter is a 400.
    "DEFAULT_FILTER_BACKENDS": (
        "apps.core.listing.ListQueryFilter",
        "apps.core.listing.FilterBackend",
        "apps.core.listing.StrictOrderingFilter",
        "apps.core.listing.SearchFilter",
    ),
    "DEFAULT_PAGINATION_CLASS": "apps.core.listing.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "apps.core.schema.ScrmAutoSchema",
    "EXCEPTION_HANDLER": "apps.core.api.exception_handler",
    "NUM_PROXIES": TRUSTED_PROXY_COUNT or None,
    # Rates of apps.core.throttling's throttles ("<count>/<s|min|hour|day>",
    # "off" for none). Sign-ups count per integration token: one mini-program
    # backend may carry a brand's whole campaign, so raise it to the expected peak.
    "DEFAULT_THROTTLE_RATES": {
        "member-signup": None if _signup_rate.lower() in ("", "off") else _signup_rate,
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Guide SCRM API",
    "DESCRIPTION": "Stores, guides, members and commissions of a store-associate SCRM.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a field named "kind": each choice set gets its own
    # schema name rather than a numbered one (and `check --deploy` stays clean).
    "ENUM_NAME_OVERRIDES": {
        "StoreKindEnum": "apps.stores.models.Store.Kind",
        "EntryKindEnum": "apps.commissions.models.EntryKind",
        "FollowUpKindEnum": "apps.engagement.models.FollowUpKind",
        "PointsMovementKindEnum": "apps.incentives.models.PointsMovement.Kind",
        # Answers carry coordinates in WGS-84 only; requests may send three systems.
        "AnsweredCoordSystemEnum": ["wgs84"],
        "CoordSystemEnum": ["wgs84", "gcj02", "bd09"],
    },
}

# CELERY
# ------------------------------------------------------------------------------
CELERY_BROKER_URL = _BROKER_URL or EMBEDDED_REDIS.broker_url
# A command run by hand while the embedded Redis is stopped (``make run`` is
# not running) does the work it queues itself, inline after its commit: a
# fresh machine can ``seed_demo`` or ``settle`` without a broker, and nothing
# is started behind the user's back to outlive the command.
CELERY_TASK_ALWAYS_EAGER = EMBEDDED_REDIS is not None and not EMBEDDED_REDIS_UP
# Tasks are acknowledged when they end (acks_late below). A message held by a
# worker that vanished (SIGKILL, out of memory, a lost host) goes back to the
# queue once unacknowledged CELERY_VISIBILITY_TIMEOUT seconds, when any live
# worker on the broker starts or sweeps (every CELERY_UNACKED_SWEEP_SECONDS).
# The timeout must exceed the longest run of a task, the hard time limit, or a
# slow task still running on a live host would be handed out twice at once
# (the tasks are idempotent, so that wastes work rather than writing twice). A
# pool process that dies under a live worker is requeued at once instead
# (reject_on_worker_lost), and on the embedded Redis the supervisor hands a
# dead worker's messages back before it starts the next one (config.supervisor).
BROKER_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=35 * 60)
BROKER_UNACKED_SWEEP_SECONDS = env.int("CELERY_UNACKED_SWEEP_SECONDS", default=100)
# kombu looks every `interval` seconds and scans Redis on every `throttle`-th
# look: the sweep period is their product (kombu's own default is 10 × 10).
_sweep_interval = max(1, min(10, BROKER_UNACKED_SWEEP_SECONDS // 10))
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": BROKER_VISIBILITY_TIMEOUT,
    "unacked_restore_interval": _sweep_interval,
    "unacked_restore_throttle": max(1, -(-BROKER_UNACKED_SWEEP_SECONDS // _sweep_interval)),
    # One worker sweeps at a time under a Redis lock; a host that dies holding
    # it (its sweep lasts milliseconds) keeps the others out until it expires.
    "unacked_mutex_expire": env.int("CELERY_UNACKED_SWEEP_LOCK_SECONDS", default=300),
}
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default="django-db")
CELERY_RESULT_EXTENDED = True
CELERY_RESULT_EXPIRES = 7 * 24 * 3600
CELERY_TIMEZONE = TIME_ZONE
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
# Tasks are idempotent, so a task whose worker dies is redelivered rather
# than lost.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A message delivered this many times without finishing (its worker died
# each time) is parked for HQ rather than delivered again (apps.core.taskbase).
TASK_MAX_DELIVERIES = env.int("TASK_MAX_DELIVERIES", default=3)
CELERY_TASK_TIME_LIMIT = 30 * 60  # below the visibility timeout above
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_WORKER_SEND_TASK_EVENTS = True
# With JSON logs the workers keep Django's LOGGING rather than Celery's format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = LOG_FORMAT != "json"
CELERY_TASK_SEND_SENT_EVENT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Each kind of work has a queue and a worker group of its own (apps.core.queues,
# the Procfile): sign-ups never wait behind the nightly settlement.
CELERY_TASK_ROUTES = ("apps.core.queues.route_task",)
CELERY_TASK_DEFAULT_QUEUE = "default"
# Prepended to every queue's name; the tests give their workers private queues.
TASK_QUEUE_PREFIX = ""
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
DJANGO_CELERY_BEAT_TZ_AWARE = True
# Sign-ups and orders each queue one batch run for everything committed before
# it starts, rather than a message per item (a message costs a worker more than
# the item's share of a batch). The "a run is queued" key must be seen by
# every process, so this needs the shared (Redis) cache; with per-process
# caches each item keeps its own message.
TASK_COALESCING = env.bool(
    "TASK_COALESCING",
    default=CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache",
)

# WEBHOOKS (apps.core.webhooks)
# ------------------------------------------------------------------------------
# A failed delivery is tried again after 30 s, doubling up to an hour between
# tries, for 24 hours; an endpoint failing that long is disabled.
WEBHOOK_RETRY_BASE_SECONDS = env.int("WEBHOOK_RETRY_BASE_SECONDS", default=30)
WEBHOOK_RETRY_HOURS = env.int("WEBHOOK_RETRY_HOURS", default=24)

# SMS (apps.core.sms)
# ------------------------------------------------------------------------------
# Where text messages (sign-up codes, set-password links) go: the console
# backend writes them to the log; a provider's backend is one small class
# (see apps/core/sms/__init__.py), its settings in SMS_BACKEND_OPTIONS.
SMS_BACKEND = env("SMS_BACKEND", default="apps.core.sms.backends.console.SmsBackend")
SMS_BACKEND_OPTIONS: dict = {}

# RECRUITING (apps.recruiting): the public member sign-up page
# ------------------------------------------------------------------------------
# A printed QR code stays valid this long; an older one still lets the shopper
# join, at the code's store, without crediting the guide.
RECRUIT_LINK_MAX_AGE_DAYS = env.int("RECRUIT_LINK_MAX_AGE_DAYS", default=365)
# Sign-up codes: how long one is valid, how many wrong tries it takes, and how
# many codes a phone and an address may ask for ("<count>/<s|min|hour|day>").
SIGNUP_CODE_TTL_SECONDS = env.int("SIGNUP_CODE_TTL_SECONDS", default=5 * 60)
SIGNUP_CODE_MAX_ATTEMPTS = env.int("SIGNUP_CODE_MAX_ATTEMPTS", default=5)
SIGNUP_CODE_RATE_PER_PHONE = env("SIGNUP_CODE_RATE_PER_PHONE", default="5/hour")
SIGNUP_CODE_INTERVAL_SECONDS = env.int("SIGNUP_CODE_INTERVAL_SECONDS", default=60)
SIGNUP_RATE_PER_ADDRESS = env("SIGNUP_RATE_PER_ADDRESS", default="30/hour")

# ADMIN (django-unfold)
# ------------------------------------------------------------------------------
UNFOLD = {
    "SITE_TITLE": "Guide SCRM",
    "SITE_HEADER": "Guide SCRM",
    "SHOW_LANGUAGES": True,
    # Guides and store managers land on their members and commission.
    "DASHBOARD_CALLBACK": "apps.dashboards.callbacks.dashboard_callback",
    "SHOW_HISTORY": "apps.core.admin_scoping.admin_shows_history",
    # Worked out per request: guides and store managers see their phone
    # pages only; HQ's technical models sit under one "System" section.
    "SIDEBAR": {
        "show_search": False,
        "show_all_applications": False,
        "navigation": "apps.dashboards.navigation.sidebar_navigation",
    },
}
