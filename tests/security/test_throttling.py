"""Password guessing on the admin login and floods of member sign-ups are refused."""

import os
import uuid

import pytest
from django.core.cache.backends.redis import RedisCache
from django.test import Client, override_settings
from rest_framework.authtoken.models import Token

from apps.core.roles import Role
from apps.core.throttling import MemberSignUpThrottle
from tests.conftest import token_client
from tests.factories import UserFactory
from tests.worker import broker_url_configured, redis_cache_location

pytestmark = pytest.mark.django_db

LOGIN_URL = "/admin/login/"
PASSWORD = "pass-word-123"  # tests.factories.UserFactory's
MEMBERS_URL = "/api/v1/members/"


def login(client: Client, username: str, password: str, address: str = "198.51.100.7"):
    return client.post(LOGIN_URL, {"username": username, "password": password}, REMOTE_ADDR=address)


def is_signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# --- admin login -------------------------------------------------------------


@pytest.fixture
def manager(db):
    return UserFactory(username="manager-sh01", role=Role.STORE_MANAGER)


def test_login_is_locked_after_the_failure_limit_even_with_the_right_password(manager, settings):
    settings.AXES_FAILURE_LIMIT = 3
    client = Client()

    failures = [login(client, "manager-sh01", "wrong-guess") for _ in range(2)]
    last_failure = login(client, "manager-sh01", "wrong-guess")
    right_password = login(client, "manager-sh01", PASSWORD)

    # Below the limit the form answers as usual, naming the error.
    assert [response.status_code for response in failures] == [200, 200]
    assert "correct username and password" in failures[0].content.decode()
    # At the limit, and from then on, the login is refused with a message.
    assert last_failure.status_code == 429
    assert right_password.status_code == 429
    assert "too many login attempts" in right_password.content.decode()
    assert not is_signed_in(client)


def test_a_lockout_holds_one_username_from_one_address(manager, settings):
    settings.AXES_FAILURE_LIMIT = 2
    UserFactory(username="other-user")
    for _ in range(2):
        login(Client(), "manager-sh01", "wrong-guess", address="198.51.100.7")

    from_elsewhere, other_user = Client(), Client()
    login(from_elsewhere, "manager-sh01", PASSWORD, address="203.0.113.9")
    login(other_user, "other-user", PASSWORD, address="198.51.100.7")

    assert is_signed_in(from_elsewhere)
    assert is_signed_in(other_user)


def test_a_successful_login_clears_the_failures(manager, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(2):
        login(Client(), "manager-sh01", "wrong-guess")
    login(Client(), "manager-sh01", PASSWORD)

    for _ in range(2):
        login(Client(), "manager-sh01", "wrong-guess")
    client = Client()
    login(client, "manager-sh01", PASSWORD)

    assert is_signed_in(client)


def test_one_password_across_many_usernames_locks_the_address(manager, settings):
    # Given an address trying one password against many usernames, once each
    settings.AXES_FAILURE_LIMIT, settings.AXES_ADDRESS_FAILURE_LIMIT = 5, 8
    sprayed = [login(Client(), f"user-{n}", "Summer2026!") for n in range(8)]

    # When the manager signs in from that address, and from another
    same_address, elsewhere = Client(), Client()
    locked = login(same_address, "manager-sh01", PASSWORD, address="198.51.100.7")
    login(elsewhere, "manager-sh01", PASSWORD, address="203.0.113.9")

    # Then the address is locked for every username, the rest of the world is not
    assert [r.status_code for r in sprayed] == [200] * 7 + [429]
    assert locked.status_code == 429
    assert not is_signed_in(same_address)
    assert is_signed_in(elsewhere)


def test_a_login_of_ones_own_does_not_clear_the_address_count(manager, settings):
    # Given someone with an account guessing other people's passwords
    settings.AXES_FAILURE_LIMIT, settings.AXES_ADDRESS_FAILURE_LIMIT = 5, 6
    for n in range(4):
        login(Client(), f"user-{n}", "Summer2026!")

    # When they sign in to their own account between rounds
    own = Client()
    login(own, "manager-sh01", PASSWORD)
    second_round = [login(Client(), f"user-{n}", "Autumn2026!") for n in range(4, 6)]

    # Then the address still locks after six failures in all
    assert is_signed_in(own)
    assert [r.status_code for r in second_round] == [200, 429]


def test_api_tokens_work_while_the_password_login_is_locked(manager, settings):
    settings.AXES_FAILURE_LIMIT = 1
    login(Client(), "manager-sh01", "wrong-guess")

    response = token_client(manager).get("/api/v1/stores/")

    assert response.status_code == 200


# --- member sign-up -----------------------------------------------------------


@pytest.fixture
def signup_rate(monkeypatch):
    """Three sign-ups a minute per token. DRF reads the rates setting when it is
    imported, so the test sets the throttle's copy, as API_SIGNUP_THROTTLE_RATE would."""
    monkeypatch.setattr(MemberSignUpThrottle, "THROTTLE_RATES", {"member-signup": "3/min"})


def sign_up(client, number: int):
    payload = {
        "brand": "AUR",
        "phone": f"1391234{number:04d}",
        "latitude": 31.23,
        "longitude": 121.47,
    }
    return client.post(MEMBERS_URL, payload, format="json")


def test_sign_ups_past_the_rate_answer_429_with_retry_after(signup_rate, store, integration_client):
    accepted = [sign_up(integration_client, number).status_code for number in range(3)]
    refused = sign_up(integration_client, 3)

    assert accepted == [201, 201, 201]
    assert refused.status_code == 429
    assert "throttled" in refused.data["detail"]
    assert 1 <= int(refused["Retry-After"]) <= 60


def test_the_sign_up_rate_counts_per_token(signup_rate, store, integration_client):
    for number in range(3):
        sign_up(integration_client, number)
    other_system = token_client(UserFactory(role=Role.INTEGRATION, is_staff=False))

    assert sign_up(other_system, 10).status_code == 201
    assert sign_up(integration_client, 11).status_code == 429


def test_reads_are_not_counted_against_sign_ups(signup_rate, store, integration_client):
    for _ in range(5):
        assert integration_client.get(MEMBERS_URL).status_code == 200

    assert sign_up(integration_client, 0).status_code == 201


def test_the_sign_up_rate_can_be_switched_off(monkeypatch, store, integration_client):
    monkeypatch.setattr(MemberSignUpThrottle, "THROTTLE_RATES", {"member-signup": None})

    statuses = {sign_up(integration_client, number).status_code for number in range(20)}

    assert statuses == {201}


requires_redis = pytest.mark.skipif(
    not (
        os.environ.get("CELERY_BROKER_URL", "").startswith("redis://")
        or (not os.environ.get("CELERY_BROKER_URL") and broker_url_configured())
    ),
    reason="no Redis: CELERY_BROKER_URL is not Redis and there is no embedded one",
)


@requires_redis
def test_sign_up_counts_are_shared_by_workers_through_redis(
    signup_rate, monkeypatch, store, integration_client
):
    """A count kept in Redis (production, and the embedded Redis of ``make run``) is one
    count for every web worker: a sign-up another worker took counts here too."""
    redis_cache = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": redis_cache_location(),
        "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
    }
    monkeypatch.setattr(MemberSignUpThrottle, "timer", staticmethod(lambda: 1_800_000_000.0))
    user_pk = Token.objects.get(
        key=integration_client._credentials["HTTP_AUTHORIZATION"][6:]
    ).user_id
    window_key = f"throttle_member-signup_{user_pk}:{1_800_000_000 // 60}"
    other_worker = RedisCache(redis_cache["LOCATION"], {"KEY_PREFIX": redis_cache["KEY_PREFIX"]})

    with override_settings(CACHES={"default": redis_cache}):
        first = [sign_up(integration_client, number).status_code for number in range(2)]
        other_worker.incr(window_key)  # a sign-up served by the other worker
        third = sign_up(integration_client, 2).status_code

    assert first == [201, 201]
    assert third == 429
    other_worker.delete(window_key)
