"""Reading back orders, finding them and members by phone, and open settlements' running totals."""

import datetime as dt
from decimal import Decimal

import pytest

from apps.commissions.models import Refund, Settlement
from tests.commissions.conftest import LEDGER_DAY
from tests.commissions.factories import CommissionEntryFactory
from tests.conftest import token_client


@pytest.fixture
def hq_api(org):
    return token_client(org.users["hq"])


def test_an_integration_reads_back_its_order_with_lines_refunds_entries_and_attribution(
    org, ledger
):
    order = ledger.orders["G-SH01"]
    order.lines.create(sku="A1", category="shoes", quantity=1, amount=order.amount)
    Refund.objects.create(
        order=order, refund_no="RF-1", amount=Decimal("10.00"), refunded_at=order.paid_at,
        business_date=order.business_date, request_hash="-",
    )  # fmt: skip
    pos = token_client(org.users["pos"])

    response = pos.get(f"/api/v1/orders/{order.order_no}/")

    body = response.json()
    assert response.status_code == 200
    assert body["attributed_guide"] == "G-SH01" and body["attribution_reason"]
    assert [line["sku"] for line in body["lines"]] == ["A1"]
    assert [refund["refund_no"] for refund in body["refunds"]] == ["RF-1"]
    assert sorted(entry["beneficiary"] for entry in body["entries"]) == ["guide", "store"]
    assert body["member_phone"] == "137****0002"  # integrations see masks


def test_a_guide_reads_only_orders_crediting_them_and_only_their_entries(org, ledger):
    guide = token_client(org.users["guide_sh01"])

    listed = guide.get("/api/v1/orders/").json()
    own = guide.get("/api/v1/orders/O-G-SH01/").json()
    elsewhere = guide.get("/api/v1/orders/O-G-BJ01/")

    assert [order["order_no"] for order in listed["results"]] == ["O-G-SH01"]
    assert [entry["beneficiary"] for entry in own["entries"]] == ["guide"]
    assert elsewhere.status_code == 404


def test_a_guide_cannot_post_orders(org):
    guide = token_client(org.users["guide_sh01"])

    assert guide.post("/api/v1/orders/", {}, format="json").status_code == 403


@pytest.mark.parametrize("written", ["13700000003", "+86 137-0000-0003", "0086 137 0000 0003"])
def test_hq_finds_orders_by_a_full_phone_in_any_accepted_form(hq_api, ledger, written):
    response = hq_api.get("/api/v1/orders/", {"phone": written})

    assert [order["order_no"] for order in response.json()["results"]] == ["O-G-SH02"]


def test_part_of_a_phone_is_a_400_naming_the_field(hq_api, ledger):
    response = hq_api.get("/api/v1/orders/", {"phone": "0003"})

    assert response.status_code == 400 and "phone" in response.json()


def test_orders_filter_by_business_date(hq_api, ledger):
    day = LEDGER_DAY.isoformat()
    next_day = (LEDGER_DAY + dt.timedelta(days=1)).isoformat()

    on_the_day = hq_api.get("/api/v1/orders/", {"date_from": day, "date_to": day}).json()
    after = hq_api.get("/api/v1/orders/", {"date_from": next_day}).json()

    assert on_the_day["count"] == len(ledger.orders) and after["count"] == 0


@pytest.mark.parametrize("written", ["13812340002", "+86 138 1234 0002"])
def test_integrations_find_a_member_by_full_phone(org, written):
    pos = token_client(org.users["pos"])

    response = pos.get("/api/v1/members/", {"phone": written})

    assert [member["id"] for member in response.json()["results"]] == [org.members["G-SH01"].pk]


def test_members_filter_by_the_day_they_joined(hq_api, org):
    member = org.members["G-SH01"]
    member.__class__.objects.filter(pk=member.pk).update(
        joined_at=dt.datetime(2026, 3, 10, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    )

    day = hq_api.get("/api/v1/members/", {"date_from": "2026-03-10", "date_to": "2026-03-10"})

    # 23:30 in Shanghai is 15:30 UTC: the local calendar day counts
    assert [m["id"] for m in day.json()["results"]] == [member.pk]


def test_an_open_settlement_shows_its_running_total_and_entry_count(hq_api, org, ledger):
    settlement = ledger.settlements["G-SH01"]
    Settlement.objects.filter(pk=settlement.pk).update(
        status=Settlement.Status.OPEN, total=0, entries_total=0
    )
    CommissionEntryFactory(
        order=ledger.orders["G-SH01"], beneficiary="guide", guide=org.guides["G-SH01"],
        store=org.stores["SH01"], brand=org.brands[0], plan=settlement.entries.first().plan,
        business_date=LEDGER_DAY, rate=Decimal("3.00"), settlement=settlement, category="bags",
    )  # fmt: skip
    amounts = sum(entry.amount for entry in settlement.entries.all())

    response = hq_api.get(f"/api/v1/settlements/{settlement.pk}/").json()

    assert response["status"] == "open" and response["total"] == "0.00"
    assert response["entry_count"] == 2
    assert Decimal(response["running_total"]) == amounts != 0


def test_the_settlement_list_does_not_grow_queries_with_rows(
    hq_api, ledger, django_assert_max_num_queries
):
    with django_assert_max_num_queries(4):
        response = hq_api.get("/api/v1/settlements/")

    assert response.json()["count"] == len(ledger.settlements)
