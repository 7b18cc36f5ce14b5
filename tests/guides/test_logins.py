"""Guides and store managers get logins that follow their staff record."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from apps.core import sms
from apps.core.roles import user_roles
from apps.guides.models import Guide
from apps.guides.services import guide_create, guide_update
from tests.conftest import token_client

pytestmark = pytest.mark.django_db


def test_creating_a_guide_makes_a_staff_login_in_the_guide_group(store):
    guide = guide_create(employee_no="E 77/A", name="何杰", store=store)

    user = Guide.objects.get(pk=guide.pk).user
    assert user.username == "e-77-a"
    assert user.is_staff and user.is_active and not user.has_usable_password()
    assert user_roles(user) == {"guide"}


def test_a_role_change_moves_the_login_and_deactivation_ends_its_access(store):
    guide = guide_create(employee_no="E77", name="何杰", store=store)
    client = token_client(guide.user)
    assert client.get("/api/v1/members/").status_code == 200

    guide_update(guide=guide, role=Guide.Role.STORE_MANAGER)
    assert user_roles(get_user_model().objects.get(pk=guide.user_id)) == {"store_manager"}

    guide_update(guide=guide, is_active=False)
    assert client.get("/api/v1/members/").status_code == 401
    assert get_user_model().objects.get(pk=guide.user_id).is_active is False


def test_set_password_link_works_once(store):
    guide = guide_create(employee_no="E77", name="何杰", store=store)
    answer = token_client_hq().post(f"/api/v1/guides/{guide.employee_no}/login-link/", {})
    url = answer.json()["url"]
    browser = Client()

    form = browser.get(url, follow=True)
    done = browser.post(
        form.redirect_chain[-1][0],
        {"new_password1": "Str0ng-pass-2026", "new_password2": "Str0ng-pass-2026"},
    )
    again = Client().get(url, follow=True)

    assert answer.status_code == 200 and answer.json()["username"] == "e77"
    assert "e77" in form.content.decode()
    assert done.status_code == 302
    assert get_user_model().objects.get(username="e77").check_password("Str0ng-pass-2026")
    assert "set-password-invalid" in again.content.decode()


def token_client_hq():
    from apps.core.roles import Role
    from tests.factories import UserFactory

    return token_client(UserFactory(username="hq-link", role=Role.HQ_OPS))


def test_api_create_answers_the_link_and_sms_sends_it(hq_client, store):
    created = hq_client.post(
        "/api/v1/guides/",
        {"employee_no": "E88", "name": "王芳", "store": store.code, "phone": "13900001111"},
    )
    texted = hq_client.post("/api/v1/guides/E88/login-link/", {"send_sms": True})

    assert created.status_code == 201
    assert created.json()["user"] == "e88"
    assert "/accounts/set-password/" in created.json()["set_password_url"]
    assert texted.json()["sent_by_sms"] is True
    assert sms.outbox[-1].phone == "13900001111"
    assert re.search(r"/accounts/set-password/\S+", sms.outbox[-1].text)


def test_only_hq_asks_for_links(guide_client, guide_user):
    employee_no = guide_user.guide.employee_no

    answer = guide_client.post(f"/api/v1/guides/{employee_no}/login-link/", {})

    assert answer.status_code == 403


def test_admin_shows_the_link_to_whoever_created_the_guide(org, store):
    client = Client()
    client.force_login(org.users["hq"])

    response = client.post(
        "/admin/guides/guide/add/",
        {
            "employee_no": "E99",
            "name": "李娜",
            "store": org.stores["SH01"].pk,
            "role": "guide",
            "is_active": "on",
            "phone": "",
        },
        follow=True,
    )

    assert "set-password-link" in response.content.decode()
    assert Guide.objects.get(employee_no="E99").user.username == "e99"
