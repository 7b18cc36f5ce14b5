"""Every role against every admin list and API list of stores, guides and members.

The world is the ``org`` fixture: EAST ⊃ EAST-SH ⊃ {SH01, SH02}, NORTH ⊃ BJ01,
one member per guide.
"""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.customers.models import AssignmentEvent
from tests.conftest import token_client

pytestmark = pytest.mark.django_db

ADMIN_ROLES = ["hq", "region_east", "manager_sh01", "guide_sh01"]
ALL_ROLES = [*ADMIN_ROLES, "pos"]

# What each role sees: store codes and guide employee numbers; members are
# named by the employee no. of the guide holding them.
SEES_STORES = {
    "hq": {"SH01", "SH02", "BJ01"},
    "region_east": {"SH01", "SH02"},
    "manager_sh01": {"SH01"},
    "guide_sh01": {"SH01"},
    "pos": {"SH01", "SH02", "BJ01"},
}
SEES_GUIDES = {
    "hq": {"M-SH01", "G-SH01", "G-SH02", "G-BJ01"},
    "region_east": {"M-SH01", "G-SH01", "G-SH02"},
    "manager_sh01": {"M-SH01", "G-SH01"},
    "guide_sh01": {"G-SH01"},
    "pos": {"M-SH01", "G-SH01", "G-SH02", "G-BJ01"},
}
SEES_MEMBERS = SEES_GUIDES
UNMASKED = {"hq"}


def admin_client(org, role: str) -> Client:
    client = Client()
    client.force_login(org.users[role])
    return client


def changelist_rows(client: Client, url: str) -> list:
    response = client.get(url)
    assert response.status_code == 200, response
    return list(response.context["cl"].result_list)


@pytest.fixture
def events(org):
    return [
        AssignmentEvent.objects.create(
            membership=membership,
            to_store=membership.store,
            to_guide=membership.guide,
            reason=AssignmentEvent.Reason.NEW_MEMBER,
        )
        for membership in org.members.values()
    ]


# --- admin ------------------------------------------------------------------


@pytest.mark.parametrize("role", ADMIN_ROLES)
def test_admin_lists_show_only_the_roles_rows(org, events, role):
    client = admin_client(org, role)

    stores = changelist_rows(client, "/admin/stores/store/")
    guides = changelist_rows(client, "/admin/guides/guide/")
    memberships = changelist_rows(client, "/admin/customers/membership/")
    customers = changelist_rows(client, "/admin/customers/customer/")
    shown_events = changelist_rows(client, "/admin/customers/assignmentevent/")

    assert {store.code for store in stores} == SEES_STORES[role]
    assert {guide.employee_no for guide in guides} == SEES_GUIDES[role]
    assert {m.guide.employee_no for m in memberships} == SEES_MEMBERS[role]
    expected_phones = {org.members[no].customer.phone for no in SEES_MEMBERS[role]}
    assert {customer.phone for customer in customers} == expected_phones
    assert {e.membership.guide.employee_no for e in shown_events} == SEES_MEMBERS[role]


@pytest.mark.parametrize("role", ADMIN_ROLES)
def test_admin_masks_phones_for_everyone_but_hq(org, role):
    client = admin_client(org, role)
    member = org.members["G-SH01"]
    guide = org.guides["G-SH01"]
    # Page → the full number HQ reads there (None: the page shows none).
    pages = {
        "/admin/customers/membership/": member.customer.phone,
        "/admin/customers/customer/": member.customer.phone,
        f"/admin/customers/membership/{member.pk}/change/": None,
        f"/admin/customers/customer/{member.customer.pk}/change/": member.customer.phone,
        "/admin/guides/guide/": guide.phone,
        f"/admin/guides/guide/{guide.pk}/change/": guide.phone,
    }

    for url, full_number in pages.items():
        html = client.get(url).content.decode()

        if role in UNMASKED and full_number:
            assert full_number in html, url
        elif role not in UNMASKED:
            assert member.customer.phone not in html, url
            assert guide.phone not in html, url
            assert "138****0002" in html or "139****0002" in html, url


@pytest.mark.parametrize("role", ["region_east", "manager_sh01", "guide_sh01"])
def test_phone_search_needs_the_full_number_unless_hq(org, role):
    client = admin_client(org, role)
    phone = org.members["G-SH01"].customer.phone

    partial = changelist_rows(client, f"/admin/customers/membership/?q={phone[:7]}")
    full = changelist_rows(client, f"/admin/customers/membership/?q={phone}")
    guides_partial = changelist_rows(client, "/admin/guides/guide/?q=1390000")

    assert partial == []
    assert [m.pk for m in full] == [org.members["G-SH01"].pk]
    assert guides_partial == []


def test_hq_searches_phones_by_any_part(org):
    client = admin_client(org, "hq")

    found = changelist_rows(client, "/admin/customers/membership/?q=1381234")

    assert len(found) == len(org.members)


@pytest.mark.parametrize("role", ["region_east", "manager_sh01", "guide_sh01"])
def test_another_stores_rows_look_missing_in_the_admin(org, role):
    client = admin_client(org, role)
    beijing = org.stores["BJ01"]
    urls = [
        f"/admin/stores/store/{beijing.pk}/change/",
        f"/admin/guides/guide/{org.guides['G-BJ01'].pk}/change/",
        f"/admin/customers/membership/{org.members['G-BJ01'].pk}/change/",
        f"/admin/customers/customer/{org.members['G-BJ01'].customer.pk}/change/",
    ]

    for url in urls:
        response = client.get(url)
        # Django's admin answers an id outside the queryset as it answers an
        # unknown id: back to the index with "does not exist".
        assert response.status_code == 302, url
        assert response["Location"] == "/admin/", url


@pytest.mark.parametrize("role", ["region_east", "manager_sh01", "guide_sh01"])
def test_master_data_is_read_only_for_everyone_but_hq(org, role):
    client = admin_client(org, role)
    store = org.stores["SH01"]
    guide = org.guides["G-SH01"]

    assert client.get(f"/admin/stores/store/{store.pk}/change/").status_code == 200
    assert client.post(f"/admin/stores/store/{store.pk}/change/", {}).status_code == 403
    assert client.post(f"/admin/guides/guide/{guide.pk}/change/", {}).status_code == 403
    assert client.get("/admin/stores/store/add/").status_code == 403
    assert client.get("/admin/guides/guide/add/").status_code == 403
    assert client.get("/admin/stores/brand/add/").status_code == 403
    delete = client.post(f"/admin/stores/store/{store.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 403


def test_hq_edits_master_data_in_the_admin(org):
    client = admin_client(org, "hq")

    assert client.get("/admin/stores/store/add/").status_code == 200
    assert client.get(f"/admin/guides/guide/{org.guides['G-BJ01'].pk}/change/").status_code == 200


def test_integrations_have_no_admin(org):
    client = admin_client(org, "pos")

    response = client.get("/admin/stores/store/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_guide_member_list_query_count_is_pinned(org, django_assert_max_num_queries):
    client = admin_client(org, "guide_sh01")
    client.get("/admin/customers/membership/")  # warm the session and content types

    with django_assert_max_num_queries(12):
        response = client.get("/admin/customers/membership/")

    assert response.status_code == 200


# --- API --------------------------------------------------------------------


def api_list(client, url: str) -> list[dict]:
    response = client.get(url)
    assert response.status_code == 200, response.data
    return response.data["results"]


@pytest.mark.parametrize("role", ALL_ROLES)
def test_api_lists_show_only_the_roles_rows(org, role):
    client = token_client(org.users[role])

    stores = api_list(client, "/api/v1/stores/")
    guides = api_list(client, "/api/v1/guides/")
    members = api_list(client, "/api/v1/members/")

    assert {store["code"] for store in stores} == SEES_STORES[role]
    assert {guide["employee_no"] for guide in guides} == SEES_GUIDES[role]
    assert {member["guide"] for member in members} == SEES_MEMBERS[role]


@pytest.mark.parametrize("role", ALL_ROLES)
def test_api_masks_phones_for_everyone_but_hq(org, role):
    client = token_client(org.users[role])

    guide = client.get("/api/v1/guides/G-SH01/").data
    member = client.get(f"/api/v1/members/{org.members['G-SH01'].pk}/").data

    if role in UNMASKED:
        assert (guide["phone"], member["phone"]) == ("13900000002", "13812340002")
    else:
        assert (guide["phone"], member["phone"]) == ("139****0002", "138****0002")


@pytest.mark.parametrize("role", ["region_east", "manager_sh01", "guide_sh01"])
def test_api_answers_404_for_another_stores_rows(org, role):
    client = token_client(org.users[role])

    assert client.get("/api/v1/stores/BJ01/").status_code == 404
    assert client.get("/api/v1/guides/G-BJ01/").status_code == 404
    assert client.get(f"/api/v1/members/{org.members['G-BJ01'].pk}/").status_code == 404


@pytest.mark.parametrize("role", ["region_east", "manager_sh01", "guide_sh01"])
def test_api_writes_are_403_for_field_roles(org, role):
    client = token_client(org.users[role])

    assert client.patch("/api/v1/stores/SH01/", {"name": "x"}).status_code == 403
    assert client.patch("/api/v1/guides/G-SH01/", {"name": "x"}).status_code == 403
    assert client.post("/api/v1/stores/", {"code": "X"}).status_code == 403
    assert client.post("/api/v1/guides/", {"employee_no": "X"}).status_code == 403


@pytest.mark.parametrize("url", ["/api/v1/stores/", "/api/v1/guides/"])
def test_scoped_api_list_query_count_is_flat(org, url, django_assert_max_num_queries):
    client = token_client(org.users["region_east"])
    client.get(url)

    with django_assert_max_num_queries(9):
        response = client.get(url)

    assert response.status_code == 200


# --- tokens and sessions ----------------------------------------------------

# Status of a read per role: master data is open to every login, commission
# rules to HQ only, the commission report to HQ and region managers.
READ_STATUS = {
    "/api/v1/brands/": dict.fromkeys(ALL_ROLES, 200),
    "/api/v1/regions/": dict.fromkeys(ALL_ROLES, 200),
    "/api/v1/commission-plans/": {**dict.fromkeys(ALL_ROLES, 403), "hq": 200},
    "/api/v1/settlement-terms/": {**dict.fromkeys(ALL_ROLES, 403), "hq": 200},
    "/api/v1/reports/commissions/": {
        **dict.fromkeys(ALL_ROLES, 403),
        "hq": 200,
        "region_east": 200,
    },
}


@pytest.mark.parametrize("role", ALL_ROLES)
def test_each_roles_token_reads_only_what_the_role_may(org, role):
    client = token_client(org.users[role])

    statuses = {url: client.get(url).status_code for url in READ_STATUS}

    assert statuses == {url: by_role[role] for url, by_role in READ_STATUS.items()}


@pytest.mark.parametrize("role", ADMIN_ROLES)
def test_an_admin_session_on_the_api_has_the_same_scope_as_the_token(org, role):
    session = admin_client(org, role)

    members = session.get("/api/v1/members/").json()["results"]
    plans = session.get("/api/v1/commission-plans/")

    assert {member["guide"] for member in members} == SEES_MEMBERS[role]
    assert plans.status_code == READ_STATUS["/api/v1/commission-plans/"][role]


def test_a_token_is_refused_once_its_login_is_deactivated(org):
    client = token_client(org.users["pos"])
    org.users["pos"].is_active = False
    org.users["pos"].save(update_fields=["is_active"])

    response = client.get("/api/v1/stores/")

    assert response.status_code == 401


def test_a_made_up_token_is_refused(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)

    assert client.get("/api/v1/stores/").status_code == 401


# --- CSRF -------------------------------------------------------------------


def csrf_checked_session(org, role: str) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.users[role])
    return client


def test_an_admin_post_without_the_csrf_token_is_refused(org):
    client = csrf_checked_session(org, "hq")
    store = org.stores["SH01"]

    response = client.post(f"/admin/stores/store/{store.pk}/change/", {"name": "Renamed"})

    assert response.status_code == 403
    store.refresh_from_db()
    assert store.name != "Renamed"


def test_an_admin_post_with_the_csrf_token_gets_past_the_check(org):
    client = csrf_checked_session(org, "hq")
    page = client.get("/admin/stores/brand/add/")
    token = page.context["csrf_token"]

    response = client.post(
        "/admin/stores/brand/add/",
        {"code": "CSRF", "name": "Checked", "csrfmiddlewaretoken": token},
    )

    assert response.status_code == 302


def test_an_api_write_on_an_admin_session_needs_the_csrf_token(org):
    """The browser's session cookie alone must not be enough to write through the API."""
    client = csrf_checked_session(org, "hq")

    response = client.patch(
        "/api/v1/stores/SH01/", {"name": "Renamed"}, content_type="application/json"
    )

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert org.stores["SH01"].name != "Renamed"


def test_an_api_write_with_a_token_needs_no_csrf_token(org):
    client = token_client(org.users["hq"])
    client.handler.enforce_csrf_checks = True

    response = client.patch("/api/v1/stores/SH01/", {"name": "Renamed"}, format="json")

    assert response.status_code == 200
