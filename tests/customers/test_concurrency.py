"""Assignment under real concurrency: PostgreSQL row locks and real worker processes."""

import threading
from collections import Counter

import pytest
from django.db import connection, connections

from apps.customers.models import Membership
from apps.customers.services import membership_assign
from tests.conftest import token_client
from tests.factories import (
    BrandFactory,
    GuideFactory,
    PendingMembershipFactory,
    StoreFactory,
    UserFactory,
)
from tests.worker import broker_url_configured, running_worker, wait_for

HERE = {"latitude": 31.2304, "longitude": 121.4737}


@pytest.fixture
def four_guide_store(transactional_db):
    brand = BrandFactory(code="AUR")
    store = StoreFactory(code="ONE", brands=[brand], **HERE)
    for number in range(4):
        GuideFactory(employee_no=f"G{number}", store=store)
    return brand, store


@pytest.mark.postgres
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL; SQLite runs one writer"
)
def test_two_hundred_members_joining_one_store_at_once_stay_balanced(four_guide_store):
    brand, store = four_guide_store
    ids = [PendingMembershipFactory(brand=brand, **HERE).pk for _ in range(200)]
    chunks = [ids[i::8] for i in range(8)]
    errors = []

    def assign(chunk):
        try:
            for membership_id in chunk:
                membership_assign(membership_id=membership_id)
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=assign, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    loads = Counter(
        Membership.objects.filter(store=store).values_list("guide__employee_no", flat=True)
    )
    assert sum(loads.values()) == 200
    assert max(loads.values()) - min(loads.values()) <= 1


@pytest.mark.broker
@pytest.mark.skipif(not broker_url_configured(), reason="CELERY_BROKER_URL is not set")
def test_member_joined_over_the_api_is_assigned_by_a_real_worker(four_guide_store):
    client = token_client(UserFactory(username="pos", role="integration", is_staff=False))

    with running_worker(concurrency=2) as _queue:
        ids = [
            client.post(
                "/api/v1/members/",
                {"brand": "AUR", "phone": f"1360000{i:04d}", **HERE},
                format="json",
            ).data["id"]
            for i in range(20)
        ]

        wait_for(
            lambda: not Membership.objects.filter(pk__in=ids, assignment_status="pending").exists()
        )

    loads = Counter(
        Membership.objects.filter(pk__in=ids).values_list("guide__employee_no", flat=True)
    )
    assert sorted(loads.values()) == [5, 5, 5, 5]


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="parallel batches need PostgreSQL")
def test_large_bulk_assignment_writes_in_parallel_batches(four_guide_store, monkeypatch):
    from apps.core.models import WebhookEvent
    from apps.core.webhooks import webhook_endpoint_create
    from apps.customers import placements
    from apps.customers.models import AssignmentEvent
    from apps.customers.services import memberships_assign_pending

    brand, store = four_guide_store
    webhook_endpoint_create(url="https://hq.example.com/hook", events=["member.assigned"])
    monkeypatch.setattr(placements, "PARALLEL_WRITE_MIN_ROWS", 10)
    monkeypatch.setattr(placements, "BULK_WRITE_BATCH", 7)
    ids = [PendingMembershipFactory(brand=brand, **HERE).pk for _ in range(50)]

    assert memberships_assign_pending() == 50

    loads = Counter(
        Membership.objects.filter(pk__in=ids).values_list("guide__employee_no", flat=True)
    )
    assert sorted(loads.values()) == [12, 12, 13, 13]
    assert AssignmentEvent.objects.filter(membership_id__in=ids, to_store=store).count() == 50
    # Each batch records its members' events in its own transaction: one each.
    events = WebhookEvent.objects.filter(type="member.assigned")
    assert sorted(event.data["member_id"] for event in events) == sorted(ids)
