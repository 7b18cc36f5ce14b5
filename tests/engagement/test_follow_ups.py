"""Follow-ups: the daily run makes exactly one task per rule, member and occasion."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.core.dates import day_start
from apps.core.scoping import scope_for_user
from apps.customers.models import Customer, Membership
from apps.engagement.models import FollowUpRule, FollowUpTask
from apps.engagement.selectors import follow_up_completion, follow_up_counts
from apps.engagement.services import follow_up_close, follow_up_create_manual, follow_ups_create
from apps.guides.services import guide_update
from tests.commissions.factories import OrderFactory
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 18)


def rule(brand, kind, days, created=dt.date(2026, 1, 1)):
    made = FollowUpRule.objects.create(brand=brand, kind=kind, days=days)
    FollowUpRule.objects.filter(pk=made.pk).update(created_at=day_start(created))
    return FollowUpRule.objects.get(pk=made.pk)


def bound(membership, day):
    Membership.objects.filter(pk=membership.pk).update(bound_at=day_start(day))


def occasions(**filters):
    return sorted(FollowUpTask.objects.filter(**filters).values_list("kind", "occasion"))


def test_each_rule_makes_one_task_per_member_and_occasion_and_reruns_add_nothing(org):
    aurora = org.brands[0]
    member = org.members["G-SH01"]
    guide = org.guides["G-SH01"]
    bound(member, TODAY - dt.timedelta(days=1))
    Customer.objects.filter(pk=member.customer_id).update(birthday=dt.date(1990, 11, 18))
    order = OrderFactory(
        brand=aurora,
        store=member.store,
        member_phone=member.customer.phone,
        paid_at=timezone.make_aware(dt.datetime(2026, 11, 11, 12)),
        business_date=dt.date(2026, 11, 11),
    )
    for kind, days in [("welcome", 1), ("after_purchase", 7), ("birthday", 0), ("dormant", 90)]:
        rule(aurora, kind, days)
    dormant = MembershipFactory(guide=org.guides["G-SH02"])
    bound(dormant, TODAY - dt.timedelta(days=200))

    first = follow_ups_create(today=TODAY)
    second = follow_ups_create(today=TODAY)

    assert second == 0
    assert occasions(membership=member) == [
        ("after_purchase", f"order:{order.pk}"),
        ("birthday", "birthday:2026"),
        ("welcome", "welcome"),
    ]
    assert set(FollowUpTask.objects.filter(membership=member).values_list("guide", flat=True)) == {
        guide.pk
    }
    assert occasions(membership=dormant) == [
        ("dormant", f"dormant:{TODAY - dt.timedelta(days=200)}")
    ]
    # The other org members were bound today, by the factory: welcomed, not dormant.
    assert first == FollowUpTask.objects.count()


def test_a_missed_day_is_caught_up_and_a_new_rule_skips_old_members(org):
    aurora = org.brands[0]
    late = org.members["G-SH01"]
    old = org.members["M-SH01"]
    bound(late, TODAY - dt.timedelta(days=2))
    bound(old, dt.date(2025, 1, 1))
    rule(aurora, "welcome", 1, created=dt.date(2026, 6, 1))

    follow_ups_create(today=TODAY)

    task = FollowUpTask.objects.get(membership=late)
    assert task.due_date == TODAY - dt.timedelta(days=1)
    assert not FollowUpTask.objects.filter(membership=old).exists()


def test_a_purchase_ends_a_dormant_stretch_and_a_new_one_starts_another(org):
    aurora = org.brands[0]
    member = org.members["G-SH01"]
    bound(member, dt.date(2026, 1, 1))
    rule(aurora, "dormant", 90)
    follow_ups_create(today=TODAY)
    OrderFactory(
        brand=aurora,
        store=member.store,
        member_phone=member.customer.phone,
        business_date=dt.date(2026, 12, 1),
    )

    follow_ups_create(today=dt.date(2026, 12, 20))  # bought 19 days ago: active
    follow_ups_create(today=dt.date(2027, 3, 5))  # 94 days later: dormant again

    assert occasions(membership=member) == [
        ("dormant", "dormant:2026-01-01"),
        ("dormant", "dormant:2026-12-01"),
    ]


def test_birthday_on_29_february_is_kept_on_28_february(org):
    member = org.members["G-SH01"]
    Customer.objects.filter(pk=member.customer_id).update(birthday=dt.date(2000, 2, 29))
    rule(org.brands[0], "birthday", 0)

    follow_ups_create(today=dt.date(2027, 2, 28))

    assert FollowUpTask.objects.get(membership=member).due_date == dt.date(2027, 2, 28)


def test_refunded_purchases_ask_for_no_follow_up(org):
    member = org.members["G-SH01"]
    OrderFactory(
        brand=org.brands[0],
        store=member.store,
        member_phone=member.customer.phone,
        business_date=TODAY - dt.timedelta(days=7),
        amount=Decimal("50.00"),
        refunded_amount=Decimal("50.00"),
    )
    rule(org.brands[0], "after_purchase", 7)

    assert follow_ups_create(today=TODAY) == 0


def test_open_tasks_move_with_members_when_their_guide_leaves(
    org, django_capture_on_commit_callbacks
):
    leaver = org.guides["G-SH01"]
    member = org.members["G-SH01"]
    task = follow_up_create_manual(membership=member, title="回访", due_date=TODAY, user=None)
    closed = follow_up_create_manual(membership=member, title="已办", due_date=TODAY, user=None)
    follow_up_close(task=closed, status="done", outcome_note="", user=org.users["guide_sh01"])

    with django_capture_on_commit_callbacks(execute=True):
        guide_update(guide=leaver, is_active=False)

    member.refresh_from_db()
    task.refresh_from_db()
    closed.refresh_from_db()
    assert member.guide == org.guides["M-SH01"]
    assert task.guide == org.guides["M-SH01"]
    assert closed.guide == leaver


def test_closing_needs_an_open_task_and_a_reason_to_skip(org):
    task = follow_up_create_manual(
        membership=org.members["G-SH01"], title="回访", due_date=TODAY, user=None
    )
    with pytest.raises(ValidationError) as no_reason:
        follow_up_close(task=task, status="skipped", outcome_note=" ", user=None)

    follow_up_close(task=task, status="skipped", outcome_note="电话未接", user=None)
    with pytest.raises(ValidationError) as again:
        follow_up_close(task=task, status="done", outcome_note="", user=None)

    assert "outcome_note" in no_reason.value.message_dict
    assert "status" in again.value.message_dict


def test_counts_and_completion_rates_per_guide(org):
    guide_member, manager_member = org.members["G-SH01"], org.members["M-SH01"]
    make = follow_up_create_manual
    done = make(membership=guide_member, title="a", due_date=TODAY, user=None)
    make(membership=guide_member, title="b", due_date=TODAY - dt.timedelta(days=2), user=None)
    make(membership=manager_member, title="c", due_date=TODAY, user=None)
    make(membership=org.members["G-SH02"], title="d", due_date=TODAY, user=None)
    follow_up_close(task=done, status="done", outcome_note="ok", user=None)

    guide_counts = follow_up_counts(scope=scope_for_user(org.users["guide_sh01"]), today=TODAY)
    rates = follow_up_completion(
        scope=scope_for_user(org.users["manager_sh01"]), first_day=TODAY.replace(day=1), today=TODAY
    )

    assert (guide_counts.today, guide_counts.overdue) == (0, 1)
    by_guide = {row.guide_id: (row.due, row.done, row.rate) for row in rates}
    assert by_guide == {org.guides["G-SH01"].pk: (2, 1, 50), org.guides["M-SH01"].pk: (1, 0, 0)}
