"""Member sign-ups in batches: outcomes in order, QR binding, replays, limits, interruptions."""

import pytest

from apps.commissions import task_names as commission_tasks
from apps.core import tasking
from apps.core.batches import BATCH_MAX_ITEMS
from apps.customers import services as member_services
from apps.customers import task_names as customer_tasks
from apps.customers.models import AssignmentEvent, Customer, Membership
from tests.factories import GuideFactory

pytestmark = pytest.mark.django_db

MEMBERS_BATCH_URL = "/api/v1/members/batch/"
PEOPLES_SQUARE = {"latitude": 31.2305, "longitude": 121.4738}


def sign_up(number: int, **overrides) -> dict:
    item = {"brand": "AUR", "phone": f"1391234{number:04d}", "name": f"会员{number}"}
    item.update(overrides)
    return item


def post_batch(client, items, callbacks):
    with callbacks(execute=True):
        return client.post(MEMBERS_BATCH_URL, {"items": items}, format="json")


def test_mixed_batch_binds_qr_members_at_once_and_assigns_the_rest_once(
    integration_client, shanghai, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    real_publish = tasking._publish

    def publish(name, args, countdown):
        sent.append(name)
        real_publish(name, args, countdown)

    monkeypatch.setattr(tasking, "_publish", publish)
    post_batch(integration_client, [sign_up(1, **PEOPLES_SQUARE)],
               django_capture_on_commit_callbacks)  # fmt: skip
    sent.clear()
    items = [
        sign_up(1, name="again"),  # a member already: the existing membership
        sign_up(2, store="SH-LJZ", guide="SH-LJZ-2"),  # a guide's QR code
        sign_up(3, **PEOPLES_SQUARE),
        sign_up(4, phone="12345"),  # not a mobile number
        sign_up(5, brand="NOPE"),
        sign_up(6, store="SH-SQ", guide="SH-LJZ-1"),  # guide of another store
        sign_up(3, **PEOPLES_SQUARE),  # a repeat within the batch
        sign_up(7, latitude=0, longitude=0),  # a failed GPS fix
        sign_up(8, **PEOPLES_SQUARE),
    ]

    response = post_batch(integration_client, items, django_capture_on_commit_callbacks)

    assert response.status_code == 200, response.data
    answers = response.data["items"]
    assert [item["status"] for item in answers] == [
        "replayed", "created", "created", "invalid", "invalid", "invalid", "replayed", "invalid",
        "created",
    ]  # fmt: skip
    assert set(answers[3]["errors"]) == {"phone"}
    assert set(answers[4]["errors"]) == {"brand"}
    assert set(answers[5]["errors"]) == {"guide"}
    assert set(answers[7]["errors"]) == {"latitude"}
    assert answers[0]["result"]["name"] == "会员1"  # joining again changes nothing
    assert answers[1]["result"]["assignment_status"] == "assigned"
    assert answers[1]["result"]["guide"] == "SH-LJZ-2"
    assert answers[2]["result"]["assignment_status"] == "pending"
    assert answers[6]["result"]["id"] == answers[2]["result"]["id"]
    # One assignment run for the batch's pending members; one re-attribution for the
    # batch's QR bindings, and one for the run's.
    assert sent.count(customer_tasks.MEMBERSHIPS_ASSIGN_WAITING) == 1
    assert customer_tasks.MEMBERSHIP_ASSIGN_WITH_BACKLOG not in sent
    assert sent.count(commission_tasks.MEMBER_ORDERS_REATTRIBUTE) == 2
    qr_member = Membership.objects.get(customer__phone="13912340002")
    assert qr_member.bound_at == qr_member.joined_at
    assert AssignmentEvent.objects.filter(membership=qr_member, reason="explicit").count() == 1
    assert Membership.objects.get(customer__phone="13912340003").store.code == "SH-SQ"
    assert Customer.objects.count() == Membership.objects.count() == 4


def test_a_batch_member_and_a_single_sign_up_are_the_same_member(
    integration_client, shanghai, django_capture_on_commit_callbacks
):
    post_batch(integration_client, [sign_up(1, **PEOPLES_SQUARE)],
               django_capture_on_commit_callbacks)  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        single = integration_client.post("/api/v1/members/", sign_up(1), format="json")

    assert single.status_code == 200
    assert Membership.objects.count() == 1


def test_more_than_the_limit_is_refused_whole(integration_client, shanghai):
    items = [sign_up(number) for number in range(BATCH_MAX_ITEMS + 1)]

    response = integration_client.post(MEMBERS_BATCH_URL, {"items": items}, format="json")

    assert response.status_code == 400
    assert not Membership.objects.exists()


def test_guides_cannot_sign_members_up_in_batches(guide_client):
    response = guide_client.post(MEMBERS_BATCH_URL, {"items": [sign_up(1)]}, format="json")

    assert response.status_code == 403


def test_a_batch_cut_short_leaves_whole_chunks_and_a_resend_completes_it(
    integration_client, shanghai, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(member_services, "BATCH_CHUNK_ITEMS", 2)
    items = [sign_up(number, store="SH-SQ", guide="SH-SQ-1") for number in range(5)]
    real_bulk_create = AssignmentEvent.objects.bulk_create
    calls = []

    def dies_on_the_second_chunk(objs, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return real_bulk_create(objs, *args, **kwargs)

    monkeypatch.setattr(AssignmentEvent.objects, "bulk_create", dies_on_the_second_chunk)
    with pytest.raises(RuntimeError):
        post_batch(integration_client, items, django_capture_on_commit_callbacks)

    # The first chunk is in, whole: customers, memberships and their events.
    assert Customer.objects.count() == Membership.objects.count() == 2
    assert AssignmentEvent.objects.count() == 2

    monkeypatch.setattr(AssignmentEvent.objects, "bulk_create", real_bulk_create)
    response = post_batch(integration_client, items, django_capture_on_commit_callbacks)

    statuses = [item["status"] for item in response.data["items"]]
    assert statuses == ["replayed", "replayed", "created", "created", "created"]
    assert Membership.objects.filter(assignment_status="assigned").count() == 5
    assert AssignmentEvent.objects.count() == 5


def test_a_phone_signed_up_by_another_request_meanwhile_is_a_replay(shanghai, monkeypatch):
    brand = shanghai[0]
    joins = [
        member_services.JoinInput(brand=brand, phone=f"1391234000{n}", source="mini_program")
        for n in range(3)
    ]
    real_prepare = member_services._membership_prepare

    def another_request_signs_up_the_second_meanwhile(join, *args, **kwargs):
        if join is joins[0]:
            member_services.members_join(joins=[joins[1]])
        return real_prepare(join, *args, **kwargs)

    monkeypatch.setattr(
        member_services, "_membership_prepare", another_request_signs_up_the_second_meanwhile
    )

    outcomes = member_services.members_join(joins=joins)

    assert [outcome.status for outcome in outcomes] == ["created", "replayed", "created"]
    assert Membership.objects.count() == 3


def test_query_count_of_a_batch_does_not_grow_with_its_items(
    integration_client, shanghai, django_capture_on_commit_callbacks,
    django_assert_max_num_queries,
):  # fmt: skip
    GuideFactory(employee_no="SH-SQ-3", store=shanghai[1])
    qr_code = {"store": "SH-SQ", "guide": "SH-SQ-3"}
    items = [sign_up(n, **(qr_code if n % 2 else PEOPLES_SQUARE)) for n in range(200)]

    with django_assert_max_num_queries(25):
        response = integration_client.post(MEMBERS_BATCH_URL, {"items": items}, format="json")

    assert response.data["created"] == 200
