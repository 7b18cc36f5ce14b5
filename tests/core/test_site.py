import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from apps.core.roles import user_roles
from apps.demo.data import DEMO_PASSWORD
from apps.demo.seed import DEMO_LOGINS
from apps.guides.models import Guide
from apps.stores.models import Brand, Store

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_admin_login_schema_and_docs_answer(client):
    assert client.get("/admin/login/").status_code == 200
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/stores/" in schema.content
    assert client.get("/api/docs/").status_code == 200
    assert client.get("/health/").json() == {"database": "ok"}


@pytest.mark.django_db
def test_seed_demo_is_realistic_and_idempotent(client):
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    counts = (Brand.objects.count(), Store.objects.count(), Guide.objects.count())
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115

    assert (Brand.objects.count(), Store.objects.count(), Guide.objects.count()) == counts
    assert counts[0] == 3
    assert counts[1] >= 60
    multi_brand = [s for s in Store.objects.prefetch_related("brands") if s.brands.count() > 1]
    assert multi_brand
    assert Store.objects.values("city").distinct().count() >= 20
    # Every store sits inside mainland China's bounding box.
    assert not Store.objects.exclude(latitude__range=(18, 54), longitude__range=(73, 135)).exists()
    for login in DEMO_LOGINS:
        assert login.role in user_roles(get_user_model().objects.get(username=login.username))
    # Through the login page: the lockout backend checks only requests.
    login = client.post("/admin/login/", {"username": "hq", "password": DEMO_PASSWORD})
    assert login.status_code == 302
    assert "_auth_user_id" in client.session


def _manage(*args, **env):
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean_env, "DJANGO_SETTINGS_MODULE": "config.settings.production", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_secret_key():
    result = _manage("check", DJANGO_ALLOWED_HOSTS="scrm.example.com")

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_refuses_to_start_with_debug_on():
    result = _manage(
        "check",
        DJANGO_SECRET_KEY="x" * 60,
        DJANGO_DEBUG="true",
        DJANGO_ALLOWED_HOSTS="scrm.example.com",
    )

    assert result.returncode != 0
    assert "DJANGO_DEBUG" in result.stderr


def test_production_passes_the_deploy_check():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SECRET_KEY="k3y-" + "q8Zr2vLm9xT" * 6,
        DJANGO_ALLOWED_HOSTS="scrm.example.com",
        # A cache of its own, whether CI's broker is Redis or embedded.
        CACHE_URL="redis://127.0.0.1:6379/10",
    )

    assert result.returncode == 0, result.stderr


def test_rate_limits_and_the_cache_follow_the_environment(tmp_path):
    show = (
        "from django.conf import settings as s; "
        "print(s.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']['member-signup'], "
        "s.CACHES['default']['BACKEND'].rsplit('.', 1)[-1], s.AXES_FAILURE_LIMIT)"
    )
    production = {
        "DJANGO_SECRET_KEY": "k3y-" + "q8Zr2vLm9xT" * 6,
        "DJANGO_ALLOWED_HOSTS": "scrm.example.com",
        "CACHE_URL": "",
    }

    with_redis = _manage(
        "shell", "-v", "0", "-c", show, **{**production, "CACHE_URL": "redis://127.0.0.1:6379/10"},
        CELERY_BROKER_URL="redis://127.0.0.1:6379/9",
        API_SIGNUP_THROTTLE_RATE="300/s",
        AXES_FAILURE_LIMIT="8",
    )  # fmt: skip
    embedded = _manage(
        "shell", "-v", "0", "-c", show, **production,
        CELERY_BROKER_URL="", VAR_DIR=str(tmp_path),
        API_SIGNUP_THROTTLE_RATE="off",
    )  # fmt: skip

    # Several web workers share one count through Redis; a command run by hand
    # while the embedded Redis is stopped keeps its own (tests/core/test_embedded_redis.py).
    assert with_redis.stdout.split() == ["300/s", "RedisCache", "8"], with_redis.stderr
    assert embedded.stdout.split() == ["None", "LocMemCache", "5"], embedded.stderr
