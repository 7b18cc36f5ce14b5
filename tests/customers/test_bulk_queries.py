"""The bulk assignment's cost per batch: a fixed number of statements, whatever the members."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.models import WebhookEvent
from apps.core.webhooks import webhook_endpoint_create
from apps.customers.models import AssignmentEvent, Membership
from apps.customers.services import memberships_assign_pending
from tests.factories import BrandFactory, GuideFactory, PendingMembershipFactory, StoreFactory

HERE = {"latitude": 31.2304, "longitude": 121.4737}


@pytest.fixture
def network(db):
    brand = BrandFactory(code="AUR")
    store = StoreFactory(code="ONE", brands=[brand], **HERE)
    for number in range(3):
        GuideFactory(employee_no=f"G{number}", store=store)
    webhook_endpoint_create(url="https://hq.example.com/hook", events=["member.assigned"])
    return brand, store


def _assign(brand, count, django_capture_on_commit_callbacks):
    ids = [PendingMembershipFactory(brand=brand, **HERE).pk for _ in range(count)]
    with (
        django_capture_on_commit_callbacks() as callbacks,
        CaptureQueriesContext(connection) as queries,
    ):
        assert memberships_assign_pending() == count
    return ids, len(queries), len(callbacks)


@pytest.mark.postgres
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite writes the moves row by row; PostgreSQL in one statement",
)
def test_bulk_assignment_statements_and_messages_do_not_grow_with_members(
    network, django_capture_on_commit_callbacks
):
    brand, store = network
    _assign(brand, 2, django_capture_on_commit_callbacks)  # the store index is built once

    few_ids, few_queries, few_messages = _assign(brand, 3, django_capture_on_commit_callbacks)
    many_ids, many_queries, many_messages = _assign(brand, 40, django_capture_on_commit_callbacks)

    assert many_queries == few_queries
    assert many_messages == few_messages
    # Everything the members' moves owe is still written, once per member.
    ids = few_ids + many_ids
    assert Membership.objects.filter(pk__in=ids, store=store, guide__isnull=False).count() == 43
    assert AssignmentEvent.objects.filter(membership_id__in=ids).count() == 43
    assigned = WebhookEvent.objects.filter(type="member.assigned")
    assert sorted(e.data["member_id"] for e in assigned if e.data["member_id"] in ids) == sorted(
        ids
    )
