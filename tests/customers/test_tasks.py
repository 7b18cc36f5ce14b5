import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.customers.models import Membership
from apps.customers.tasks import membership_assign_task, pending_memberships_sweep_task
from tests.factories import GuideFactory, PendingMembershipFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("bad", ["abc", None, -3, 0, 1.5, "1; DROP TABLE x", True, [1]])
def test_malformed_assignment_message_is_logged_and_dropped(bad, caplog):
    with caplog.at_level(logging.ERROR):
        result = membership_assign_task.apply(args=[bad])

    assert result.successful()
    assert result.result is None
    assert "dropping malformed message" in caplog.text


def test_message_for_an_unknown_membership_is_dropped_without_retry():
    result = membership_assign_task.apply(args=[987654321])

    assert result.successful()
    assert result.result is None


def test_assignment_task_is_idempotent(shanghai):
    brand, square, _lujiazui = shanghai
    membership = PendingMembershipFactory(brand=brand, latitude=31.2305, longitude=121.4738)

    assert membership_assign_task.apply(args=[membership.pk]).result == "assigned"
    assert membership_assign_task.apply(args=[membership.pk]).result == "assigned"

    membership.refresh_from_db()
    assert membership.store == square
    assert membership.events.count() == 1


def test_sweeper_assigns_members_whose_message_was_lost(shanghai):
    brand, square, _lujiazui = shanghai
    lost = PendingMembershipFactory(
        brand=brand, joined_at=timezone.now() - timedelta(minutes=6), latitude=31.2305,
        longitude=121.4738,
    )  # fmt: skip
    fresh = PendingMembershipFactory(brand=brand)

    pending_memberships_sweep_task.apply()

    lost.refresh_from_db()
    fresh.refresh_from_db()
    assert (lost.assignment_status, lost.store) == (Membership.Status.ASSIGNED, square)
    assert fresh.assignment_status == Membership.Status.PENDING  # its own message may still come


def test_a_large_sweep_queues_one_waiting_run_beside_those_going(
    shanghai, settings, monkeypatch, django_capture_on_commit_callbacks
):
    # Given more stale members than the sweep re-queues one by one, with coalescing
    from unittest import mock

    from apps.customers import tasks

    settings.TASK_COALESCING = True
    monkeypatch.setattr(tasks, "SWEEP_SINGLE_LIMIT", 2)
    brand, _square, _lujiazui = shanghai
    for _n in range(3):
        PendingMembershipFactory(brand=brand, joined_at=timezone.now() - timedelta(minutes=2))

    # When the sweep runs twice before a run starts
    with mock.patch.object(tasks.memberships_assign_waiting_task, "apply_async") as queued:
        with django_capture_on_commit_callbacks(execute=True):
            pending_memberships_sweep_task.apply()
        with django_capture_on_commit_callbacks(execute=True):
            pending_memberships_sweep_task.apply()

    # Then one waiting run (SKIP LOCKED batches) is queued, not a run over every member each time
    assert queued.call_count == 1


def test_guide_added_through_the_api_picks_up_waiting_members(
    hq_client, django_capture_on_commit_callbacks, join
):
    from tests.factories import BrandFactory, StoreFactory

    brand = BrandFactory(code="AUR")
    StoreFactory(code="EMPTY", brands=[brand], latitude=31.0, longitude=121.0)
    waiting = join(brand, "13800000000", latitude=31.0, longitude=121.0)
    assert waiting.unassigned_reason == "no_guide_available"

    with django_capture_on_commit_callbacks(execute=True):
        response = hq_client.post(
            "/api/v1/guides/", {"employee_no": "NEW1", "name": "新导购", "store": "EMPTY"}
        )

    assert response.status_code == 201
    waiting.refresh_from_db()
    assert waiting.guide.employee_no == "NEW1"


def test_store_closed_through_the_api_moves_its_members(
    hq_client, shanghai, join, django_capture_on_commit_callbacks
):
    brand, square, lujiazui = shanghai
    member = join(brand, "13800000001", latitude=31.2305, longitude=121.4738)
    GuideFactory(employee_no="SPARE", store=lujiazui)

    with django_capture_on_commit_callbacks(execute=True):
        response = hq_client.patch("/api/v1/stores/SH-SQ/", {"is_active": False}, format="json")

    assert response.status_code == 200
    member.refresh_from_db()
    assert member.store == lujiazui
