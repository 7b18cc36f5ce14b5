"""Order and refund webhooks replayed three times, in shuffled order, leave the ledger as once.

POS systems and e-commerce platforms retry until they see a 2xx, and queues
deliver out of order: a refund may arrive before its order (a clear 404 that
the sender retries) and every message may arrive again later.
"""

import random
from decimal import Decimal

import pytest

from apps.commissions.models import CommissionEntry, Order, Settlement
from tests.commissions.factories import CommissionPlanFactory, SettlementTermsFactory
from tests.factories import GuideFactory, StoreFactory
from tests.hardening.faults import assert_ledger_ok

pytestmark = pytest.mark.django_db

ORDERS_URL = "/api/v1/orders/"
REPLAYS = 3


def _orders_and_refunds() -> list[tuple[str, str, dict]]:
    """Return (key, url, body) of each message: orders at two stores, refunds split and whole."""
    at = "2026-03-10T{:02d}:00:00+08:00".format
    orders = [
        ("O1", "SH01", "E1", "100.00", []),
        ("O2", "SH01", "E2", "33.33", []),
        ("O3", "SH02", "E3", "250.01", [("S1", "shoes", "150.00"), ("B1", "bags", "100.01")]),
        ("O4", "SH02", None, "77.70", []),
        ("O5", "SH01", "E1", "19.99", []),
    ]
    refunds = [
        ("O2", "R2a", "10.00", 13),
        ("O2", "R2b", "23.33", 14),
        ("O3", "R3", "100.01", 15),
        ("O4", "R4", "77.70", 16),
        ("O5", "R5", "0.01", 17),
    ]
    messages = []
    for order_no, store, guide, amount, lines in orders:
        body = {"order_no": order_no, "brand": "AUR", "store": store, "amount": amount,
                "paid_at": at(10)}  # fmt: skip
        if guide:
            body["guide"] = guide
        if lines:
            body["lines"] = [
                {"sku": sku, "category": category, "quantity": 1, "amount": line_amount}
                for sku, category, line_amount in lines
            ]
        messages.append((order_no, ORDERS_URL, body))
    for order_no, refund_no, amount, hour in refunds:
        body = {"refund_no": refund_no, "amount": amount, "refunded_at": at(hour)}
        messages.append((refund_no, f"{ORDERS_URL}{order_no}/refunds/", body))
    return messages


def ledger_state() -> tuple:
    entries = sorted(
        CommissionEntry.objects.values_list(
            "order__order_no", "refund__refund_no", "beneficiary", "category", "base_amount",
            "amount", "settlement__source_ref",
        ),
        key=str,
    )  # fmt: skip
    settlements = sorted(
        Settlement.objects.values_list(
            "beneficiary", "guide_id", "store_id", "mode", "period_end", "source_ref",
            "entries_total", "carried_forward", "total",
        ),
        key=str,
    )  # fmt: skip
    refunded = sorted(Order.objects.values_list("order_no", "refunded_amount"))
    return entries, settlements, refunded


def test_replayed_webhooks_in_any_order_change_nothing_after_the_first_delivery(
    brand, integration_client, django_capture_on_commit_callbacks
):
    # Given two stores, one settling each order at once (T+0), one the next day
    stores = {"SH01": StoreFactory(code="SH01", brands=[brand]),
              "SH02": StoreFactory(code="SH02", brands=[brand])}  # fmt: skip
    for number, store in ((1, "SH01"), (2, "SH01"), (3, "SH02")):
        GuideFactory(employee_no=f"E{number}", store=stores[store])
    CommissionPlanFactory(brand=brand, guide_rate=Decimal("3.00"), store_rate=Decimal("5.00"))
    CommissionPlanFactory(
        brand=brand, category="shoes", guide_rate=Decimal("4.50"), store_rate=Decimal("6.25")
    )
    SettlementTermsFactory(brand=brand, mode="T1", hold_days=1)
    SettlementTermsFactory(brand=brand, store=stores["SH01"], mode="T0", hold_days=0)

    # And every message three times: each pass shuffled, the first with a refund
    # ahead of its order
    messages = _orders_and_refunds()
    rng = random.Random(20261118)
    passes = [rng.sample(messages, len(messages)) for _ in range(REPLAYS)]
    first = passes[0]
    r3 = next(i for i, m in enumerate(first) if m[0] == "R3")
    first.insert(0, first.pop(r3))

    # When they are delivered
    accepted: set[str] = set()
    state_after_first_delivery = None
    early_refunds = []
    for message in (m for one_pass in passes for m in one_pass):
        key, url, body = message
        with django_capture_on_commit_callbacks(execute=True):
            response = integration_client.post(url, body, format="json")
        if response.status_code == 404:
            # Then a refund ahead of its order is refused, saying why
            assert key.startswith("R") and key not in accepted
            assert "has not been received" in response.data["detail"]
            early_refunds.append(key)
            continue
        # Then the first delivery creates, every later one confirms
        assert response.status_code == (200 if key in accepted else 201), response.data
        accepted.add(key)
        if state_after_first_delivery is None and len(accepted) == len(messages):
            state_after_first_delivery = ledger_state()

    assert "R3" in early_refunds and accepted == {m[0] for m in messages}
    # And the ledger after all replays is the ledger of the first complete delivery
    assert ledger_state() == state_after_first_delivery
    assert Order.objects.get(order_no="O2").refunded_amount == Decimal("33.33")
    # And the fully refunded orders net to zero for every beneficiary
    for order_no in ("O2", "O4"):
        net = sum(CommissionEntry.objects.filter(order__order_no=order_no).values_list(
            "amount", flat=True))  # fmt: skip
        assert net == 0
    assert_ledger_ok()
