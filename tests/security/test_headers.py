"""Response headers: a Content-Security-Policy on every page; a health check balancers reach.

Under production settings every plain-HTTP request is redirected to HTTPS,
except ``/health/``: a load balancer probing over HTTP without
``X-Forwarded-Proto`` would read the redirect as "down". The browser test
(``tests/browser/test_csp.py``) shows the admin and the docs work under the
policy.
"""

import json

import pytest

from tests.core.test_site import _manage

pytestmark = pytest.mark.django_db

PRODUCTION = {
    "DJANGO_SECRET_KEY": "k3y-" + "q8Zr2vLm9xT" * 6,
    "DJANGO_ALLOWED_HOSTS": "scrm.example.com",
}
# Asks the production site three things over plain HTTP, as a load balancer and a browser would.
PROBE = """
import json
from django.core.management import call_command
from django.test import Client
call_command("migrate", verbosity=0)
client = Client(HTTP_HOST="scrm.example.com")
health = client.get("/health/")
api = client.get("/api/v1/stores/")
secure_api = client.get("/api/v1/stores/", secure=True)
print(json.dumps({
    "health": [health.status_code, health.get("Location")],
    "api": [api.status_code, api.get("Location")],
    "secure_api": [secure_api.status_code, secure_api.get("Content-Security-Policy")],
}))
"""


def test_production_redirects_to_https_except_the_health_check(tmp_path):
    # its own database: the probe migrates, and must not touch whatever DATABASE_URL names
    result = _manage(
        "shell",
        "-v",
        "0",
        "-c",
        PROBE,
        VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        # and a cache of its own: production asks for one apart from a Redis broker
        CACHE_URL="locmemcache://",
        **PRODUCTION,
    )

    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    assert answers["health"] == [200, None]
    assert answers["api"] == [301, "https://scrm.example.com/api/v1/stores/"]
    assert answers["secure_api"][0] == 401
    assert "default-src 'self'" in answers["secure_api"][1]


@pytest.mark.parametrize("path", ["/admin/login/", "/api/v1/stores/", "/health/", "/api/docs/"])
def test_every_answer_carries_the_policy(client, path):
    policy = client.get(path)["Content-Security-Policy"]

    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    # scripts only from the site (a page that uses its nonce gets it added); never inline
    assert directives["script-src"].startswith("'self'")
    assert "'unsafe-inline'" not in directives["script-src"]
