"""Every role against the commissions admin lists and API: what it sees, what it cannot.

The world is the ``org`` fixture (EAST ⊃ EAST-SH ⊃ {SH01, SH02}, NORTH ⊃ BJ01)
plus, per guide, an order with a member phone, the guide's entry and the
store's entry on it, and a settlement holding the guide's entry.
"""

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.commissions.models import CommissionEntry, Settlement
from tests.commissions.factories import (
    CommissionEntryFactory,
    CommissionPlanFactory,
    SettlementFactory,
)
from tests.conftest import token_client

pytestmark = pytest.mark.django_db

ADMIN_ROLES = ["hq", "region_east", "manager_sh01", "guide_sh01"]

# Guide entries each role sees, named by employee no.; store entries by store code.
SEES_GUIDE_ENTRIES = {
    "hq": {"M-SH01", "G-SH01", "G-SH02", "G-BJ01"},
    "region_east": {"M-SH01", "G-SH01", "G-SH02"},
    "manager_sh01": {"M-SH01", "G-SH01"},
    "guide_sh01": {"G-SH01"},
    "pos": {"M-SH01", "G-SH01", "G-SH02", "G-BJ01"},
}
SEES_STORE_ENTRIES = {
    "hq": {"SH01", "SH02", "BJ01"},
    "region_east": {"SH01", "SH02"},
    "manager_sh01": {"SH01"},
    "guide_sh01": set(),
    "pos": {"SH01", "SH02", "BJ01"},
}


def logged_in(org, role: str) -> Client:
    client = Client()
    client.force_login(org.users[role])
    return client


def rows(client: Client, url: str) -> list:
    response = client.get(url)
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def entry_names(entries) -> set[str]:
    return {e.guide.employee_no if e.guide_id else e.store.code for e in entries}


# --- admin ------------------------------------------------------------------


@pytest.mark.parametrize("role", ADMIN_ROLES)
def test_admin_ledger_lists_show_only_the_roles_rows(org, ledger, role):
    client = logged_in(org, role)

    entries = rows(client, "/admin/commissions/commissionentry/")
    settlements = rows(client, "/admin/commissions/settlement/")
    orders = rows(client, "/admin/commissions/order/")

    assert entry_names(entries) == SEES_GUIDE_ENTRIES[role] | SEES_STORE_ENTRIES[role]
    assert {s.guide.employee_no for s in settlements} == SEES_GUIDE_ENTRIES[role]
    assert {o.order_no for o in orders} == {f"O-{no}" for no in SEES_GUIDE_ENTRIES[role]}


@pytest.mark.parametrize("role", ["region_east", "manager_sh01", "guide_sh01"])
def test_rows_out_of_scope_answer_as_missing(org, ledger, role):
    client = logged_in(org, role)
    beijing = ledger.orders["G-BJ01"]
    entry = CommissionEntry.objects.filter(order=beijing).first()

    order_page = client.get(f"/admin/commissions/order/{beijing.pk}/change/")
    entry_page = client.get(f"/admin/commissions/commissionentry/{entry.pk}/change/")
    settlement_page = client.get(
        f"/admin/commissions/settlement/{ledger.settlements['G-BJ01'].pk}/change/"
    )

    # The admin redirects a missing object to the index with a message.
    assert {order_page.status_code, entry_page.status_code, settlement_page.status_code} == {302}


@pytest.mark.parametrize(("role", "masked"), [("hq", False), ("manager_sh01", True)])
def test_order_phones_are_masked_but_for_hq(org, ledger, role, masked):
    client = logged_in(org, role)
    order = ledger.orders["G-SH01"]

    listing = client.get("/admin/commissions/order/").content.decode()
    detail = client.get(f"/admin/commissions/order/{order.pk}/change/").content.decode()

    assert ("137****0002" in listing, "13700000002" in listing) == (masked, not masked)
    assert ("137****0002" in detail, "13700000002" in detail) == (masked, not masked)


def test_partial_phone_search_finds_nothing_for_masked_roles(org, ledger):
    client = logged_in(org, "manager_sh01")

    partial = rows(client, "/admin/commissions/order/?q=0002")
    full = rows(client, "/admin/commissions/order/?q=13700000002")

    assert partial == []
    assert [o.order_no for o in full] == ["O-G-SH01"]


def test_statement_shows_the_order_rate_and_plan_of_each_entry(org, ledger):
    client = logged_in(org, "guide_sh01")

    html = client.get("/admin/commissions/commissionentry/").content.decode()

    assert "O-G-SH01" in html
    assert "3.00" in html
    assert str(CommissionEntry.objects.filter(guide__employee_no="G-SH01").get().plan) in html


@pytest.mark.parametrize("role", ["region_east", "manager_sh01", "guide_sh01"])
def test_only_hq_marks_a_settlement_paid_in_the_admin(org, ledger, role):
    settlement = ledger.settlements["G-SH01"]
    url = f"/admin/commissions/settlement/{settlement.pk}/change/"

    response = logged_in(org, role).post(url, {"payout_ref": "BANK-1"})

    assert response.status_code == 403
    settlement.refresh_from_db()
    assert settlement.status == Settlement.Status.SETTLED


def test_hq_marks_a_settlement_paid_and_the_history_keeps_who(org, ledger):
    settlement = ledger.settlements["G-SH01"]
    client = logged_in(org, "hq")

    client.post(f"/admin/commissions/settlement/{settlement.pk}/change/", {"payout_ref": "BANK-1"})

    settlement.refresh_from_db()
    change = settlement.history.first()
    assert (settlement.status, settlement.payout_ref) == (Settlement.Status.PAID, "BANK-1")
    assert (change.status, change.history_user) == ("paid", org.users["hq"])
    assert client.get(f"/admin/commissions/settlement/{settlement.pk}/history/").status_code == 200


@pytest.mark.parametrize("model", ["commissionplan", "settlementterms", "brandcommissionpolicy"])
@pytest.mark.parametrize("role", ["region_east", "manager_sh01", "guide_sh01"])
def test_plans_terms_and_policies_are_read_only_below_hq(org, ledger, model, role):
    client = logged_in(org, role)

    listing = client.get(f"/admin/commissions/{model}/")
    add = client.get(f"/admin/commissions/{model}/add/")

    assert (listing.status_code, add.status_code) == (200, 403)


def test_plan_changes_are_kept_with_who_made_them(org):
    client = logged_in(org, "hq")
    plan = CommissionPlanFactory(brand=org.brands[0])
    form = {
        "brand": plan.brand_id, "store_kind": "", "store": "", "category": "",
        "guide_rate": "4.00", "store_rate": "5.00", "valid_from": "2026-01-01", "valid_to": "",
    }  # fmt: skip

    response = client.post(f"/admin/commissions/commissionplan/{plan.pk}/change/", form)

    assert response.status_code == 302
    change = plan.history.first()
    assert (change.guide_rate, change.history_user) == (Decimal("4.00"), org.users["hq"])
    assert (
        logged_in(org, "guide_sh01")
        .get(f"/admin/commissions/commissionplan/{plan.pk}/history/")
        .status_code
        == 403
    )


# --- API --------------------------------------------------------------------


@pytest.mark.parametrize("role", [*ADMIN_ROLES, "pos"])
def test_api_entries_and_settlements_show_only_the_roles_rows(org, ledger, role):
    client = token_client(org.users[role])

    entries = client.get("/api/v1/commission-entries/", {"page_size": 100}).json()["results"]
    settlements = client.get("/api/v1/settlements/").json()["results"]

    names = {e["guide"] or e["store"] for e in entries}
    assert names == SEES_GUIDE_ENTRIES[role] | SEES_STORE_ENTRIES[role]
    assert {s["guide"] for s in settlements} == SEES_GUIDE_ENTRIES[role]


@pytest.mark.parametrize("role", ["region_east", "manager_sh01", "guide_sh01"])
def test_api_rows_out_of_scope_are_404(org, ledger, role):
    client = token_client(org.users[role])
    entry = CommissionEntry.objects.filter(order=ledger.orders["G-BJ01"]).first()

    entry_response = client.get(f"/api/v1/commission-entries/{entry.pk}/")
    settlement_response = client.get(f"/api/v1/settlements/{ledger.settlements['G-BJ01'].pk}/")

    assert (entry_response.status_code, settlement_response.status_code) == (404, 404)


@pytest.mark.parametrize(
    ("role", "readable"),
    [("region_east", True), ("manager_sh01", True), ("guide_sh01", True)],
)
def test_below_hq_orders_are_read_in_scope_and_payouts_closed(org, ledger, role, readable):
    client = token_client(org.users[role])
    settlement = ledger.settlements["G-SH01"]

    order = client.get("/api/v1/orders/O-G-SH01/")
    elsewhere = client.get("/api/v1/orders/O-G-BJ01/")
    paid = client.post(f"/api/v1/settlements/{settlement.pk}/mark-paid/", {"payout_ref": "X"})

    assert (order.status_code, elsewhere.status_code, paid.status_code) == (200, 404, 403)
    assert order.json()["member_phone"] == "137****0002"
    settlement.refresh_from_db()
    assert settlement.status == Settlement.Status.SETTLED


def test_api_orders_carry_the_member_phone_masked_but_for_hq(org, ledger):
    pos = token_client(org.users["pos"]).get("/api/v1/orders/O-G-SH01/").json()
    hq = token_client(org.users["hq"]).get("/api/v1/orders/O-G-SH01/").json()

    assert (pos["member_phone"], hq["member_phone"]) == ("137****0002", "13700000002")


@pytest.mark.parametrize(
    "url",
    [
        "/admin/commissions/commissionentry/",
        "/admin/commissions/settlement/",
        "/admin/commissions/order/",
    ],
)
def test_ledger_lists_query_count_does_not_grow_with_rows(org, ledger, url):
    client = logged_in(org, "hq")
    client.get(url)  # warm the per-process caches (content types, …)
    with CaptureQueriesContext(connection) as four_orders:
        client.get(url)
    for guide in org.guides.values():
        CommissionEntryFactory(guide=guide, brand=org.brands[0])
        SettlementFactory(guide=guide, brand=org.brands[0])

    with CaptureQueriesContext(connection) as eight_orders:
        client.get(url)

    assert len(eight_orders) == len(four_orders)
