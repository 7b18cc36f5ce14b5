"""A guide or store manager who leaves loses access at once; one who returns signs in again.

Deactivating the staff record (API or admin) ends the login's sessions and
API tokens and the scope the record gave; reactivating it lets them sign in
afresh and see their rows again.
"""

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from apps.core.models import UserSession
from apps.guides.models import Guide
from tests.conftest import token_client

pytestmark = pytest.mark.django_db

PASSWORD = "pass-word-123"  # tests.factories.UserFactory's


def _signed_in(username: str) -> Client:
    client = Client()
    response = client.post(
        "/admin/login/", {"username": username, "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 302, "the login form did not accept the password"
    return client


def _members_seen(client) -> int | None:
    """How many members the changelist shows, or None when it sends the caller to log in."""
    response = client.get("/admin/customers/membership/")
    if response.status_code == 302:
        return None
    return response.context["cl"].result_count


@pytest.mark.parametrize("employee_no", ["G-SH01", "M-SH01"])
def test_deactivating_staff_ends_sessions_tokens_and_scope_until_reactivated(org, employee_no):
    # Given a guide (or store manager) signed in to the admin and holding an API token
    guide = org.guides[employee_no]
    username = guide.user.username
    browser, api = _signed_in(username), token_client(guide.user)
    assert _members_seen(browser) >= 1
    assert api.get("/api/v1/members/").status_code == 200
    hq = token_client(org.users["hq"])

    # When HQ deactivates the staff record through the API
    response = hq.patch(f"/api/v1/guides/{employee_no}/", {"is_active": False}, format="json")
    assert response.status_code == 200

    # Then the open session and the token stop working on the next request
    assert _members_seen(browser) is None
    assert api.get("/api/v1/members/").status_code == 401
    assert not Token.objects.filter(user=guide.user).exists()
    assert not UserSession.objects.filter(user=guide.user).exists()
    # And the password no longer signs them in
    relogin = Client().post("/admin/login/", {"username": username, "password": PASSWORD})
    assert relogin.status_code == 200

    # When HQ reactivates the record
    hq.patch(f"/api/v1/guides/{employee_no}/", {"is_active": True}, format="json")

    # Then they sign in afresh and see their members again; the old session stays ended
    assert _members_seen(_signed_in(username)) >= 1
    assert _members_seen(browser) is None


def test_deactivating_a_store_manager_in_the_admin_ends_their_access(org):
    # Given a store manager signed in, and HQ in the admin
    manager = org.guides["M-SH01"]
    browser = _signed_in(manager.user.username)
    hq = Client()
    hq.force_login(org.users["hq"])

    # When HQ unticks "active" on the manager's change form
    response = hq.post(
        f"/admin/guides/guide/{manager.pk}/change/",
        {
            "employee_no": manager.employee_no, "name": manager.name, "phone": manager.phone,
            "store": manager.store_id, "role": manager.role, "user": manager.user_id,
        },
    )  # fmt: skip
    assert response.status_code == 302, response.context["adminform"].form.errors

    # Then the manager's session is over and the login disabled
    assert not Guide.objects.get(pk=manager.pk).is_active
    assert _members_seen(browser) is None
    manager.user.refresh_from_db()
    assert not manager.user.is_active


def test_a_login_serving_another_role_keeps_that_role_only(org):
    # Given the region manager of EAST, who also runs the Beijing store (another region)
    from apps.core.roles import Role, user_role_add
    from tests.factories import GuideFactory, MembershipFactory

    region_manager = org.users["region_east"]
    user_role_add(region_manager, Role.STORE_MANAGER)
    GuideFactory(
        employee_no="M-BJ01", store=org.stores["BJ01"], role=Guide.Role.STORE_MANAGER,
        user=region_manager,
    )  # fmt: skip
    MembershipFactory(guide=org.guides["G-BJ01"])
    browser = _signed_in(region_manager.username)
    beijing = org.stores["BJ01"].pk
    shown = browser.get("/admin/customers/membership/").context["cl"].result_list
    assert beijing in {m.store_id for m in shown}

    # When the Beijing staff record is deactivated
    token_client(org.users["hq"]).patch(
        "/api/v1/guides/M-BJ01/", {"is_active": False}, format="json"
    )

    # Then they sign in again and see their regions, without the Beijing store
    assert _members_seen(browser) is None
    shown = _signed_in(region_manager.username).get("/admin/customers/membership/")
    stores = {m.store_id for m in shown.context["cl"].result_list}
    assert stores and beijing not in stores
