"""Production settings: refuse to start without a secret key or with DEBUG on."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import _BROKER_URL, env

SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set in production.")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
if DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG must be off in production.")

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# The load balancer ends TLS and says so in this header; Django trusts it to
# mark a request secure (cookies, redirects). Trusting it is only safe when
# the balancer overwrites whatever the client sent: set the name of the
# header yours sets, or "off" when the web processes serve TLS themselves.
_ssl_header = env("DJANGO_SECURE_PROXY_SSL_HEADER", default="X-Forwarded-Proto").strip()
SECURE_PROXY_SSL_HEADER = (
    None
    if _ssl_header.lower() in ("", "off")
    else ("HTTP_" + _ssl_header.upper().replace("-", "_"), "https")
)
# Rate-limit counters and the coalesced runs' flags in a Redis of their own:
# in the broker's, an eviction policy meant for a cache (allkeys-lru) would
# drop queued task messages, and a flush of the cache would empty the queues.
if _BROKER_URL.startswith(("redis://", "rediss://")) and not env("CACHE_URL", default=""):
    raise ImproperlyConfigured(
        "CACHE_URL must be set in production (a Redis of its own, e.g. redis://cache:6379/0), "
        "not shared with the Celery broker."
    )
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# Load balancers probe the health check over plain HTTP, without the
# X-Forwarded-Proto header: a redirect would read as "down".
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 30)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
