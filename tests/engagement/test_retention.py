"""Retention: members inactive past their brand's limit are reported, then erased a week later."""

import datetime as dt

import pytest

from apps.customers.models import BrandPrivacyPolicy, Customer, Membership, RetentionRun
from apps.engagement.services import retention_run, retention_run_all
from apps.engagement.tasks import retention_run_task
from tests.commissions.factories import OrderFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 1, 4, 0, tzinfo=dt.UTC)


def joined(membership, moment):
    Membership.objects.filter(pk=membership.pk).update(joined_at=moment)


@pytest.fixture
def aurora(org):
    """AUR keeps members 12 months; G-SH01's member bought last month, the others never did
    and joined two years ago; G-BJ01's member joined last month."""
    aurora = org.brands[0]
    BrandPrivacyPolicy.objects.create(brand=aurora, retention_months=12)
    for employee_no, member in org.members.items():
        recent = employee_no == "G-BJ01"
        joined(member, NOW - dt.timedelta(days=30 if recent else 730))
    buyer = org.members["G-SH01"]
    OrderFactory(
        brand=aurora, store=buyer.store, member_phone=buyer.customer.phone,
        business_date=(NOW - dt.timedelta(days=40)).date(),
    )  # fmt: skip
    return aurora


def test_a_dry_run_reports_and_erases_nothing(org, aurora):
    run = retention_run(brand_id=aurora.pk, dry_run=True, now=NOW)

    expected = sorted(org.members[e].pk for e in ("M-SH01", "G-SH02"))
    assert (run.dry_run, run.found, run.erased, run.membership_ids) == (True, 2, 0, expected)
    assert run.cutoff == dt.datetime(2025, 12, 1, 4, 0, tzinfo=dt.UTC)
    assert not Membership.objects.filter(erased_at__isnull=False).exists()


def test_a_run_erases_only_what_last_weeks_report_named_and_is_still_inactive(org, aurora):
    report = retention_run(brand_id=aurora.pk, dry_run=True, now=NOW)
    RetentionRun.objects.filter(pk=report.pk).update(created_at=NOW - dt.timedelta(days=7))
    came_back = org.members["G-SH02"]
    OrderFactory(
        brand=aurora, store=came_back.store, member_phone=came_back.customer.phone,
        business_date=(NOW - dt.timedelta(days=1)).date(),
    )  # fmt: skip

    run = retention_run(brand_id=aurora.pk, dry_run=False, now=NOW)

    gone = org.members["M-SH01"]
    assert (run.dry_run, run.found, run.erased, run.membership_ids) == (False, 1, 1, [gone.pk])
    assert list(
        Membership.objects.filter(erased_at__isnull=False).values_list("pk", flat=True)
    ) == [gone.pk]
    assert Customer.objects.get(pk=Membership.objects.get(pk=gone.pk).customer_id).phone == (
        f"x{gone.pk:010d}"
    )
    # The next report is written for the following week
    latest = RetentionRun.objects.order_by("-pk").first()
    assert (latest.dry_run, latest.found) == (True, 0)


def test_without_a_report_a_week_old_nothing_is_erased_and_brands_that_keep_are_skipped(
    org, aurora
):
    retention_run(brand_id=aurora.pk, dry_run=True, now=NOW)  # today's: too fresh

    assert retention_run_all() == 0
    assert retention_run(brand_id=org.brands[1].pk, dry_run=False) is None
    assert not Membership.objects.filter(erased_at__isnull=False).exists()


def test_the_weekly_task_runs_every_brand_with_a_rule(org, aurora):
    retention_run_task()

    assert sorted(RetentionRun.objects.values_list("brand_id", "dry_run")) == [
        (aurora.pk, False),
        (aurora.pk, True),
    ]


def test_the_command_reports_per_brand_and_refuses_an_unknown_brand(org, aurora):
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("retention_run", "--brand=AUR", stdout=out)

    assert out.getvalue().startswith("AUR: 2 members inactive since ")
    assert out.getvalue().strip().endswith("(12 months); dry run")
    assert RetentionRun.objects.get().dry_run
    with pytest.raises(CommandError, match="Unknown brand"):
        call_command("retention_run", "--brand=NOPE")


def test_a_run_erases_at_most_its_cap_and_leaves_the_rest_for_next_week(org, aurora, monkeypatch):
    from apps.engagement import services

    monkeypatch.setattr(services, "RETENTION_ERASE_MAX_PER_RUN", 1)
    report = retention_run(brand_id=aurora.pk, dry_run=True, now=NOW)
    RetentionRun.objects.filter(pk=report.pk).update(created_at=NOW - dt.timedelta(days=7))

    run = retention_run(brand_id=aurora.pk, dry_run=False, now=NOW)

    assert (run.found, run.erased, run.membership_ids) == (2, 1, [org.members["M-SH01"].pk])
    assert RetentionRun.objects.order_by("-pk").first().membership_ids == [org.members["G-SH02"].pk]
