"""Who may sign members up through the API, and what a sign-up answers.

A sign-up binds a shopper (and the commission of their future orders) to a
store and guide: only integrations and HQ operations may do it. A guide or a
manager posting a phone learns nothing about the member and writes nothing.
"""

import pytest

from apps.customers.models import Customer, Membership
from tests.conftest import token_client

pytestmark = pytest.mark.django_db

MEMBERS_URL = "/api/v1/members/"
HERE = {"latitude": 31.2304, "longitude": 121.4737}


def _cases(org) -> dict:
    """Sign-ups a curious or self-serving caller might send."""
    far_member = org.members["G-BJ01"]
    return {
        "a stranger's number": {"brand": "AUR", "phone": "13955550001", **HERE},
        "another store's member": {"brand": "AUR", "phone": far_member.customer.phone},
        "another brand for that member": {"brand": "BOR", "phone": far_member.customer.phone},
        "bound to a guide of another region": {
            "brand": "AUR", "phone": "13955550002", "store": "BJ01", "guide": "G-BJ01",
        },
    }  # fmt: skip


@pytest.mark.parametrize("role", ["guide_sh01", "manager_sh01", "region_east"])
def test_staff_roles_cannot_sign_members_up_and_learn_nothing(org, role):
    client = token_client(org.users[role])
    memberships, customers = Membership.objects.count(), Customer.objects.count()

    answers = {
        case: client.post(MEMBERS_URL, body, format="json") for case, body in _cases(org).items()
    }

    assert {case: r.status_code for case, r in answers.items()} == dict.fromkeys(answers, 403)
    for response in answers.values():
        assert set(response.json()) == {"detail"}
        assert "BJ01" not in response.content.decode()
    assert (Membership.objects.count(), Customer.objects.count()) == (memberships, customers)


@pytest.mark.parametrize("role", ["pos", "hq"])
def test_integrations_and_hq_sign_members_up(org, role):
    client = token_client(org.users[role])
    far_member = org.members["G-BJ01"]
    phone = far_member.customer.phone

    answers = {
        case: client.post(MEMBERS_URL, body, format="json") for case, body in _cases(org).items()
    }

    assert {case: r.status_code for case, r in answers.items()} == {
        "a stranger's number": 201,
        "another store's member": 200,
        "another brand for that member": 201,
        "bound to a guide of another region": 201,
    }
    rejoin = answers["another store's member"].json()
    assert rejoin["id"] == far_member.pk
    assert rejoin["phone"] == phone  # the caller sent it: it gets it back, normalised
    assert Membership.objects.get(customer__phone="13955550002").requested_guide.employee_no == (
        "G-BJ01"
    )


def test_anonymous_callers_cannot_sign_up(org, anon_client):
    response = anon_client.post(MEMBERS_URL, _cases(org)["a stranger's number"], format="json")

    assert response.status_code == 401
    assert not Customer.objects.filter(phone="13955550001").exists()


def test_a_rejoin_answers_only_what_the_caller_may_read(org, monkeypatch):
    # Given a caller whose scope does not reach the member (no role signing up has one
    # today; the answer must not depend on that)
    from apps.core.scoping import Scope
    from apps.customers import views

    monkeypatch.setattr(
        views.MembershipViewSet,
        "_scope",
        lambda self: Scope(store_ids=frozenset({org.stores["SH01"].pk})),
    )
    far_member = org.members["G-BJ01"]

    # When it signs up that member's phone again
    response = token_client(org.users["pos"]).post(
        MEMBERS_URL, {"brand": "AUR", "phone": far_member.customer.phone}, format="json"
    )

    # Then it learns that the number is a member, and nothing else
    assert response.status_code == 200
    assert set(response.json()) == {"detail"}
    assert far_member.customer.phone[-4:] not in response.content.decode()
