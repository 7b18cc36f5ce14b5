"""A new member's worker assigns the members waiting with it in one set-based run."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.customers.models import AssignmentEvent, Membership
from apps.customers.services import ASSIGN_BACKLOG_BATCH, member_join
from apps.customers.tasks import membership_assign_with_backlog_task
from apps.stores.models import Store
from tests.factories import PendingMembershipFactory

pytestmark = pytest.mark.django_db

NEAR_SQUARE = {"latitude": 31.2310, "longitude": 121.4740}


def _join_queued(brand, phones, django_capture_on_commit_callbacks, **extra):
    """Join members whose assignment messages are queued but not yet run."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        members = [
            member_join(
                brand=brand, phone=phone, source="mini_program", **NEAR_SQUARE, **extra
            ).membership
            for phone in phones
        ]
    assert len(callbacks) == len(phones)  # one message each, queued on commit
    return members


def test_the_first_message_assigns_every_waiting_member_evenly(
    shanghai, django_capture_on_commit_callbacks
):
    brand, square, _lujiazui = shanghai
    members = _join_queued(
        brand, [f"1380000000{n}" for n in range(6)], django_capture_on_commit_callbacks
    )

    assert membership_assign_with_backlog_task.apply(args=[members[0].pk]).result == "assigned"

    # Then all six are bound to the nearest store, three per guide, one event each
    bound = Membership.objects.filter(pk__in=[m.pk for m in members])
    assert set(bound.values_list("assignment_status", "store_id")) == {("assigned", square.pk)}
    per_guide = sorted(
        bound.values_list("guide__employee_no", flat=True).order_by("guide__employee_no")
    )
    assert per_guide == ["SH-SQ-1"] * 3 + ["SH-SQ-2"] * 3
    assert AssignmentEvent.objects.filter(membership__in=bound).count() == 6
    # And the others' messages find nothing to do
    with CaptureQueriesContext(connection) as queries:
        results = [membership_assign_with_backlog_task.apply(args=[m.pk]).result for m in members]
    assert results == ["assigned"] * 6
    assert len(queries) <= 6 * 3
    assert AssignmentEvent.objects.count() == 6


def test_a_qr_code_member_keeps_the_store_they_chose(shanghai, django_capture_on_commit_callbacks):
    brand, _square, lujiazui = shanghai
    (chosen,) = _join_queued(
        brand, ["13900000000"], django_capture_on_commit_callbacks, store=lujiazui
    )
    (waiting,) = _join_queued(brand, ["13900000001"], django_capture_on_commit_callbacks)

    membership_assign_with_backlog_task.apply(args=[chosen.pk])

    chosen.refresh_from_db()
    waiting.refresh_from_db()
    assert (chosen.store, chosen.assignment_status) == (lujiazui, "assigned")
    assert waiting.assignment_status == "pending"  # its own message assigns it


def test_a_store_closed_behind_the_index_is_skipped_for_the_whole_batch(
    shanghai, join, django_capture_on_commit_callbacks
):
    brand, square, lujiazui = shanghai
    join(brand, "13100000000", **NEAR_SQUARE)  # the index now holds both stores
    Store.objects.filter(pk=square.pk).update(is_active=False)  # the version did not move
    members = _join_queued(
        brand, ["13100000001", "13100000002"], django_capture_on_commit_callbacks
    )

    membership_assign_with_backlog_task.apply(args=[members[0].pk])

    stores = set(
        Membership.objects.filter(pk__in=[m.pk for m in members]).values_list("store", flat=True)
    )
    assert stores == {lujiazui.pk}


def test_a_batch_takes_at_most_its_size_oldest_first(shanghai):
    brand, _square, _lujiazui = shanghai
    waiting = [PendingMembershipFactory(brand=brand) for _ in range(ASSIGN_BACKLOG_BATCH + 5)]

    membership_assign_with_backlog_task.apply(args=[waiting[-1].pk])

    still_pending = set(
        Membership.objects.filter(assignment_status="pending").values_list("pk", flat=True)
    )
    # The newest (whose message ran) and the oldest batch-size-minus-one went
    assert still_pending == {m.pk for m in waiting[ASSIGN_BACKLOG_BATCH - 1 : -1]}
