"""Behind load balancers: the client's address for lockouts and limits, TLS and the cache."""

import pytest
from axes.helpers import get_client_ip_address
from django.test import RequestFactory

from apps.core.client_ip import client_ip
from tests.core.test_site import _manage

PRODUCTION = {"DJANGO_SECRET_KEY": "k3y-" + "q8Zr2vLm9xT" * 6,
              "DJANGO_ALLOWED_HOSTS": "scrm.example.com"}  # fmt: skip


def _request(forwarded: str | None, remote: str = "10.0.0.2"):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().post("/admin/login/", **extra)


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.7", "10.0.0.2"),  # no proxy: the header is the client's to forge
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # a forged entry in front is skipped
        (2, "6.6.6.6, 203.0.113.7, 10.0.0.1", "203.0.113.7"),
        (2, "203.0.113.7", "10.0.0.2"),  # fewer hops than proxies: not through them
        (1, None, "10.0.0.2"),
    ],
)
def test_the_client_is_the_entry_appended_by_the_outermost_trusted_proxy(
    settings, proxies, forwarded, expected
):
    settings.TRUSTED_PROXY_COUNT = proxies

    assert client_ip(_request(forwarded)) == expected


def test_login_lockouts_key_on_the_client_behind_the_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1

    assert get_client_ip_address(_request("203.0.113.7")) == "203.0.113.7"
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] is None  # read at start: 0 → DRF's default


def test_production_needs_a_cache_of_its_own_and_names_the_tls_header():
    show = "from django.conf import settings as s; print(s.SECURE_PROXY_SSL_HEADER)"
    broker = {"CELERY_BROKER_URL": "redis://127.0.0.1:6379/9"}

    shared = _manage("shell", "-v", "0", "-c", show, **PRODUCTION, **broker, CACHE_URL="")
    own = _manage("shell", "-v", "0", "-c", show, **PRODUCTION, **broker,
                  CACHE_URL="redis://127.0.0.1:6379/10",
                  DJANGO_SECURE_PROXY_SSL_HEADER="X-Forwarded-Scheme")  # fmt: skip

    assert shared.returncode != 0 and "CACHE_URL must be set in production" in shared.stderr
    assert own.stdout.split() == ["('HTTP_X_FORWARDED_SCHEME',", "'https')"], own.stderr
