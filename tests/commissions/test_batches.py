"""Orders and refunds in batches: per-item outcomes, replays, conflicts, limits, interruptions."""

from decimal import Decimal

import pytest

from apps.commissions import task_names
from apps.commissions.models import CommissionEntry, Order, OrderLine, Refund
from apps.commissions.services import orders as order_services
from apps.core import tasking
from apps.core.batches import BATCH_MAX_ITEMS
from tests.commissions.factories import CommissionPlanFactory
from tests.factories import GuideFactory, StoreFactory

pytestmark = pytest.mark.django_db

ORDERS_BATCH_URL = "/api/v1/orders/batch/"
REFUNDS_BATCH_URL = "/api/v1/refunds/batch/"


def order_item(number: int, **overrides) -> dict:
    item = {
        "order_no": f"B-{number:05d}",
        "brand": "AUR",
        "store": "SH01",
        "guide": "E0001",
        "amount": "100.00",
        "paid_at": "2026-03-10T18:30:00+08:00",
        "lines": [{"sku": "A1", "category": "shoes", "quantity": 1, "amount": "100.00"}],
    }
    item.update(overrides)
    return item


@pytest.fixture
def plan(brand):
    return CommissionPlanFactory(brand=brand)


@pytest.fixture
def guide_e0001(store):
    return GuideFactory(employee_no="E0001", store=store)


@pytest.fixture
def sent_messages(monkeypatch):
    """The task messages sent, as (name, args); they run as usual."""
    sent = []
    real_publish = tasking._publish

    def publish(name, args, countdown):
        sent.append((name, args))
        real_publish(name, args, countdown)

    monkeypatch.setattr(tasking, "_publish", publish)
    return sent


def post_batch(client, url, items, callbacks):
    with callbacks(execute=True):
        return client.post(url, {"items": items}, format="json")


def test_mixed_batch_answers_each_item_in_order_and_queues_one_run(
    integration_client, django_capture_on_commit_callbacks, plan, guide_e0001, sent_messages
):
    post_batch(integration_client, ORDERS_BATCH_URL, [order_item(1), order_item(2)],
               django_capture_on_commit_callbacks)  # fmt: skip
    sent_messages.clear()
    items = [
        order_item(1),  # stored, same body
        order_item(2, amount="90.00", lines=[]),  # stored, other body
        order_item(3),
        order_item(4, brand="NOPE"),  # refused by the serializer
        order_item(5, amount="99.00"),  # lines do not add up: refused by the service
        order_item(6, guide=None, member_phone="12"),  # not a phone
        order_item(3),  # a repeat within the batch
        order_item(7, guide=None, lines=[]),
        "not an order",
    ]

    response = post_batch(integration_client, ORDERS_BATCH_URL, items,
                          django_capture_on_commit_callbacks)  # fmt: skip

    assert response.status_code == 200, response.data
    statuses = [item["status"] for item in response.data["items"]]
    assert statuses == [
        "replayed", "conflict", "created", "invalid", "invalid", "invalid", "replayed",
        "created", "invalid",
    ]  # fmt: skip
    assert [item["index"] for item in response.data["items"]] == list(range(len(items)))
    assert (response.data["created"], response.data["replayed"]) == (2, 2)
    assert (response.data["conflict"], response.data["invalid"]) == (1, 4)
    answers = response.data["items"]
    assert set(answers[3]["errors"]) == {"brand"}
    assert set(answers[4]["errors"]) == {"lines"}
    assert set(answers[5]["errors"]) == {"member_phone"}
    assert answers[2]["result"]["attribution_reason"] == "order_guide"
    assert answers[0]["result"]["order_no"] == "B-00001"
    assert answers[6]["result"]["order_no"] == "B-00003"
    assert answers[7]["result"]["attribution_reason"] == "none_no_membership"
    assert Order.objects.count() == 4
    assert OrderLine.objects.filter(order__order_no="B-00003").count() == 1
    # One message for the batch; the worker wrote every new order's entries.
    assert [name for name, _args in sent_messages] == [task_names.ORDERS_WAITING_WRITE]
    assert set(CommissionEntry.objects.values_list("order__order_no", flat=True).distinct()) == {
        "B-00001",
        "B-00002",
        "B-00003",
        "B-00007",
    }


def test_a_batch_and_single_orders_are_the_same_orders(
    integration_client, django_capture_on_commit_callbacks, plan, guide_e0001
):
    post_batch(integration_client, ORDERS_BATCH_URL, [order_item(1)],
               django_capture_on_commit_callbacks)  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        again = integration_client.post("/api/v1/orders/", order_item(1), format="json")
        changed = integration_client.post(
            "/api/v1/orders/", order_item(1, amount="100.01", lines=[]), format="json"
        )

    assert (again.status_code, changed.status_code) == (200, 409)


def test_more_than_the_limit_is_refused_whole(integration_client, plan, guide_e0001):
    items = [order_item(number) for number in range(BATCH_MAX_ITEMS + 1)]

    response = integration_client.post(ORDERS_BATCH_URL, {"items": items}, format="json")

    assert response.status_code == 400
    assert "items" in response.data
    assert not Order.objects.exists()


@pytest.mark.parametrize("body", [{"items": []}, {"items": "x"}, {}, []])
def test_a_body_that_is_no_batch_is_a_400(integration_client, body):
    response = integration_client.post(ORDERS_BATCH_URL, body, format="json")

    assert response.status_code == 400


def test_guides_cannot_post_batches(guide_client):
    for url in (ORDERS_BATCH_URL, REFUNDS_BATCH_URL, "/api/v1/members/batch/"):
        assert guide_client.post(url, {"items": [{}]}, format="json").status_code == 403


def test_a_batch_cut_short_leaves_whole_chunks_and_a_resend_completes_it(
    integration_client, django_capture_on_commit_callbacks, plan, guide_e0001, monkeypatch
):
    monkeypatch.setattr(order_services, "BATCH_CHUNK_ITEMS", 2)
    items = [order_item(number) for number in range(5)]
    real_bulk_create = OrderLine.objects.bulk_create
    calls = []

    def dies_on_the_second_chunk(objs, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return real_bulk_create(objs, *args, **kwargs)

    monkeypatch.setattr(OrderLine.objects, "bulk_create", dies_on_the_second_chunk)
    with pytest.raises(RuntimeError):
        post_batch(integration_client, ORDERS_BATCH_URL, items,
                   django_capture_on_commit_callbacks)  # fmt: skip

    # The first chunk is in, whole; nothing of the second is.
    assert sorted(Order.objects.values_list("order_no", flat=True)) == ["B-00000", "B-00001"]
    assert OrderLine.objects.count() == 2

    monkeypatch.setattr(OrderLine.objects, "bulk_create", real_bulk_create)
    response = post_batch(integration_client, ORDERS_BATCH_URL, items,
                          django_capture_on_commit_callbacks)  # fmt: skip

    statuses = [item["status"] for item in response.data["items"]]
    assert statuses == ["replayed", "replayed", "created", "created", "created"]
    assert Order.objects.count() == OrderLine.objects.count() == 5
    assert set(CommissionEntry.objects.values_list("order__order_no", flat=True)) == {
        item["order_no"] for item in items
    }


def test_an_order_written_by_another_request_meanwhile_is_a_replay_or_conflict(
    brand, store, plan, guide_e0001, monkeypatch
):
    """The unique constraint catches a concurrent writer; the rest of the chunk is still written."""
    inputs = [
        order_services.OrderInput(
            order_no=f"R-{number}", brand=brand, store=store, guide=guide_e0001,
            amount=Decimal("10.00"), paid_at=order_services.timezone.now(),
        )
        for number in range(3)
    ]  # fmt: skip
    real_prepare = order_services._order_prepare

    def another_request_writes_r1_meanwhile(item, *args, **kwargs):
        if item.order_no == "R-0":
            order_services.orders_ingest(orders=[inputs[1]])
        return real_prepare(item, *args, **kwargs)

    monkeypatch.setattr(order_services, "_order_prepare", another_request_writes_r1_meanwhile)

    outcomes = order_services.orders_ingest(orders=inputs)

    assert [outcome.status for outcome in outcomes] == ["created", "replayed", "created"]
    assert Order.objects.count() == 3


def test_query_count_of_a_batch_does_not_grow_with_its_items(
    integration_client, django_capture_on_commit_callbacks, plan, guide_e0001,
    django_assert_max_num_queries, sent_messages,
):  # fmt: skip
    items = [order_item(number, member_phone=f"1380000{number:04d}") for number in range(200)]

    with django_assert_max_num_queries(20):
        response = integration_client.post(ORDERS_BATCH_URL, {"items": items}, format="json")

    assert response.data["created"] == 200


def refund_item(number: int, **overrides) -> dict:
    item = {
        "order_no": "B-00001",
        "refund_no": f"RF-{number}",
        "amount": "30.00",
        "refunded_at": "2026-03-11T10:00:00+08:00",
    }
    item.update(overrides)
    return item


def test_refund_batch_counts_earlier_items_against_what_is_left(
    integration_client, django_capture_on_commit_callbacks, plan, guide_e0001, sent_messages
):
    post_batch(integration_client, ORDERS_BATCH_URL, [order_item(1), order_item(2)],
               django_capture_on_commit_callbacks)  # fmt: skip
    post_batch(integration_client, REFUNDS_BATCH_URL, [refund_item(1)],
               django_capture_on_commit_callbacks)  # fmt: skip
    sent_messages.clear()
    items = [
        refund_item(1),  # stored, same body
        refund_item(1, amount="31.00"),  # stored, other body
        refund_item(2),  # 70 left: fits
        refund_item(3, amount="40.01"),  # 40 left: too much
        refund_item(4, amount="40.00"),  # exactly what is left
        refund_item(5, order_no="NOT-YET"),
        refund_item(6, order_no="B-00002", refunded_at="2026-03-09T10:00:00+08:00"),
        refund_item(7, order_no="B-00002"),
        refund_item(8, amount="-1"),
    ]

    response = post_batch(integration_client, REFUNDS_BATCH_URL, items,
                          django_capture_on_commit_callbacks)  # fmt: skip

    assert response.status_code == 200, response.data
    answers = response.data["items"]
    assert [item["status"] for item in answers] == [
        "replayed", "conflict", "created", "invalid", "created", "invalid", "invalid",
        "created", "invalid",
    ]  # fmt: skip
    assert answers[3]["errors"] == {"amount": ["Only 40.00 is left to refund."]}
    assert set(answers[5]["errors"]) == {"order_no"}
    assert set(answers[6]["errors"]) == {"refunded_at"}
    assert set(answers[8]["errors"]) == {"amount"}
    assert answers[2]["result"]["order_no"] == "B-00001"
    refunded = dict(Order.objects.values_list("order_no", "refunded_amount"))
    assert refunded == {"B-00001": Decimal("100.00"), "B-00002": Decimal("30.00")}
    assert Refund.objects.count() == 4
    assert [name for name, _args in sent_messages] == [task_names.ORDERS_ENTRIES_WRITE]
    # Fully refunded, B-00001 nets to zero in the ledger.
    order_one = CommissionEntry.objects.filter(order__order_no="B-00001")
    assert sum(order_one.values_list("amount", flat=True)) == Decimal("0.00")


def test_single_refund_endpoint_and_batch_share_their_numbers(
    integration_client, django_capture_on_commit_callbacks, plan, guide_e0001
):
    post_batch(integration_client, ORDERS_BATCH_URL, [order_item(1)],
               django_capture_on_commit_callbacks)  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        single = integration_client.post(
            "/api/v1/orders/B-00001/refunds/",
            {key: value for key, value in refund_item(1).items() if key != "order_no"},
            format="json",
        )
    response = post_batch(integration_client, REFUNDS_BATCH_URL, [refund_item(1)],
                          django_capture_on_commit_callbacks)  # fmt: skip

    assert single.status_code == 201
    assert response.data["items"][0]["status"] == "replayed"


def test_other_stores_orders_in_a_batch_are_checked_each(
    integration_client, django_capture_on_commit_callbacks, plan, guide_e0001, brand
):
    StoreFactory(code="SH09", brands=[])
    items = [order_item(1, store="SH09", guide=None), order_item(2, store="SH01", guide="E0001")]

    response = post_batch(integration_client, ORDERS_BATCH_URL, items,
                          django_capture_on_commit_callbacks)  # fmt: skip

    assert [item["status"] for item in response.data["items"]] == ["invalid", "created"]
    assert set(response.data["items"][0]["errors"]) == {"store"}
