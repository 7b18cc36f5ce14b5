"""Writes of engagement: the daily follow-up run, closing tasks, tags and notes."""

import datetime as dt
from collections.abc import Iterable, Iterator

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.commissions.models import Order
from apps.core.dates import day_start
from apps.customers.models import BrandPrivacyPolicy, Membership, RetentionRun
from apps.customers.selectors import memberships_in_marketing_use
from apps.customers.services import guide_members_handover, membership_erase
from apps.engagement.models import (
    FollowUpKind,
    FollowUpRule,
    FollowUpTask,
    MemberNote,
    MemberTag,
    Tag,
)

# A run looks this many days back, so that a day whose run was missed (beat
# down, a failed run) still gets its tasks at the next run.
CATCH_UP_DAYS = 3
# Tasks are written this many at a time; conflicts (already made) are skipped.
TASK_BATCH = 5_000
Status = FollowUpTask.Status


def _batches(items: Iterable, size: int) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _tasks_write(rule: FollowUpRule, tasks: Iterable[FollowUpTask]) -> int:
    """Insert the rule's tasks not made before, in batches; return how many were new.

    Each batch first leaves out the occasions already in the table; the unique
    (rule, member, occasion) constraint, with ``ignore_conflicts``, settles
    two runs racing for the same task.
    """
    written = 0
    for batch in _batches(tasks, TASK_BATCH):
        made = set(
            FollowUpTask.objects.filter(
                rule=rule, membership_id__in={task.membership_id for task in batch}
            ).values_list("membership_id", "occasion")
        )
        fresh = [task for task in batch if (task.membership_id, task.occasion) not in made]
        FollowUpTask.objects.bulk_create(fresh, ignore_conflicts=True)
        written += len(fresh)
    return written


def _guided(rule: FollowUpRule):
    return memberships_in_marketing_use(
        Membership.objects.filter(
            brand_id=rule.brand_id,
            assignment_status=Membership.Status.ASSIGNED,
            guide__isnull=False,
        )
    ).order_by()


def _task(rule: FollowUpRule, membership_id: int, guide_id: int, occasion: str, due: dt.date):
    return FollowUpTask(
        membership_id=membership_id,
        guide_id=guide_id,
        rule=rule,
        kind=rule.kind,
        occasion=occasion,
        due_date=due,
    )


def _welcome_tasks(rule: FollowUpRule, today: dt.date):
    # Members bound since the rule began, in the catch-up window: a new rule
    # does not greet members who joined long ago.
    since = max(day_start(today - dt.timedelta(days=CATCH_UP_DAYS)), rule.created_at)
    rows = (
        _guided(rule)
        .filter(bound_at__gte=since)
        .values_list("pk", "guide_id", "bound_at")
        .iterator(chunk_size=TASK_BATCH)
    )
    for membership_id, guide_id, bound_at in rows:
        due = timezone.localtime(bound_at).date() + dt.timedelta(days=rule.days)
        yield _task(rule, membership_id, guide_id, "welcome", due)


def _after_purchase_tasks(rule: FollowUpRule, today: dt.date):
    last_day = today - dt.timedelta(days=rule.days)
    orders = (
        Order.objects.filter(
            brand_id=rule.brand_id,
            business_date__gte=last_day - dt.timedelta(days=CATCH_UP_DAYS),
            business_date__lte=last_day,
            refunded_amount__lt=F("amount"),
        )
        .exclude(member_phone="")
        .order_by()
        .values_list("pk", "member_phone", "business_date")
    )
    for batch in _batches(orders.iterator(chunk_size=TASK_BATCH), TASK_BATCH):
        phones = {phone for _order_id, phone, _day in batch}
        members = {
            phone: (membership_id, guide_id)
            for phone, membership_id, guide_id in _guided(rule)
            .filter(customer__phone__in=phones)
            .values_list("customer__phone", "pk", "guide_id")
        }
        for order_id, phone, business_date in batch:
            if phone in members:
                membership_id, guide_id = members[phone]
                due = business_date + dt.timedelta(days=rule.days)
                yield _task(rule, membership_id, guide_id, f"order:{order_id}", due)


def _birthdays_in(first: dt.date, last: dt.date) -> Q:
    """Match birthdays whose month and day fall between two dates (29 Feb on 28 Feb)."""
    match = Q(pk__in=[])
    day = first
    while day <= last:
        match |= Q(customer__birthday__month=day.month, customer__birthday__day=day.day)
        if day.month == 2 and day.day == 28 and not _is_leap(day.year):
            match |= Q(customer__birthday__month=2, customer__birthday__day=29)
        day += dt.timedelta(days=1)
    return match


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _birthday_tasks(rule: FollowUpRule, today: dt.date):
    # A birthday is due ``days`` before it: tasks for birthdays from
    # (today - catch-up + days) to (today + days).
    first = today - dt.timedelta(days=CATCH_UP_DAYS) + dt.timedelta(days=rule.days)
    last = today + dt.timedelta(days=rule.days)
    rows = (
        _guided(rule)
        .filter(_birthdays_in(first, last))
        .values_list("pk", "guide_id", "customer__birthday")
        .iterator(chunk_size=TASK_BATCH)
    )
    for membership_id, guide_id, birthday in rows:
        for year in {first.year, last.year}:
            day = 28 if (birthday.month, birthday.day) == (2, 29) and not _is_leap(year) else None
            this_year = birthday.replace(year=year, day=day or birthday.day)
            if first <= this_year <= last:
                due = this_year - dt.timedelta(days=rule.days)
                yield _task(rule, membership_id, guide_id, f"birthday:{year}", due)


def last_purchase_subquery(*, membership_ref: str = ""):
    """Return an expression for the business date of a membership's last purchase (``annotate``).

    A purchase is an order of the membership's brand by the member's phone.
    """
    return Subquery(
        Order.objects.filter(
            member_phone=OuterRef(f"{membership_ref}customer__phone"),
            brand_id=OuterRef(f"{membership_ref}brand_id"),
        )
        .order_by("-business_date")
        .values("business_date")[:1]
    )


def _dormant_tasks(rule: FollowUpRule, today: dt.date):
    cutoff = today - dt.timedelta(days=rule.days)
    rows = (
        _guided(rule)
        .annotate(
            since=Coalesce(last_purchase_subquery(), TruncDate("bound_at")),
        )
        .filter(since__lt=cutoff)
        .values_list("pk", "guide_id", "since")
        .iterator(chunk_size=TASK_BATCH)
    )
    for membership_id, guide_id, since in rows:
        # One task per stretch without purchases: a new purchase starts another.
        yield _task(rule, membership_id, guide_id, f"dormant:{since.isoformat()}", today)


_TASKS_OF_KIND = {
    FollowUpKind.WELCOME: _welcome_tasks,
    FollowUpKind.AFTER_PURCHASE: _after_purchase_tasks,
    FollowUpKind.BIRTHDAY: _birthday_tasks,
    FollowUpKind.DORMANT: _dormant_tasks,
}


def follow_ups_create(*, today: dt.date | None = None) -> int:
    """Make the follow-up tasks every active rule asks for today; return how many are new.

    Idempotent: each task is unique per rule, member and occasion, and a run
    only inserts the missing ones. Open tasks of members who moved meanwhile
    are moved to their new guide first.
    """
    today = today or timezone.localdate()
    follow_ups_follow_members()
    created = 0
    for rule in FollowUpRule.objects.filter(is_active=True).order_by("pk"):
        created += _tasks_write(rule, _TASKS_OF_KIND[FollowUpKind(rule.kind)](rule, today))
    return created


def follow_ups_follow_members(*, guide_id: int | None = None) -> int:
    """Give open tasks to their member's current guide; return how many moved.

    With ``guide_id`` (a guide who left), that guide's members are handed over
    first (``guide_members_handover`` is idempotent: members already moved are
    not moved again), so the tasks go where the members went.
    """
    if guide_id is not None:
        guide_members_handover(guide_id=guide_id)
    current = Membership.objects.filter(pk=OuterRef("membership_id")).values("guide_id")[:1]
    moved = FollowUpTask.objects.filter(status=Status.OPEN).filter(
        ~Q(guide_id=F("membership__guide_id"))
        | Q(guide__isnull=True, membership__guide__isnull=False)
        | Q(guide__isnull=False, membership__guide__isnull=True)
    )
    if guide_id is not None:
        moved = moved.filter(guide_id=guide_id)
    return moved.update(guide_id=Subquery(current))


@transaction.atomic
def follow_up_close(*, task: FollowUpTask, status: str, outcome_note: str, user) -> FollowUpTask:
    """Mark an open task done or skipped, with what came of it (required to skip)."""
    task = FollowUpTask.objects.select_for_update().get(pk=task.pk)
    if status not in (Status.DONE, Status.SKIPPED):
        raise ValidationError({"status": _("Choose done or skipped.")})
    if task.status != Status.OPEN:
        raise ValidationError({"status": _("This follow-up is already closed.")})
    outcome_note = outcome_note.strip()
    if status == Status.SKIPPED and not outcome_note:
        raise ValidationError({"outcome_note": _("Say why you skip it.")})
    task.status, task.outcome_note = status, outcome_note
    task.closed_at, task.closed_by = timezone.now(), user
    task.closed_by_guide_id = getattr(getattr(user, "guide", None), "pk", None)
    task.full_clean(exclude=["membership", "guide", "rule", "closed_by", "closed_by_guide"])
    task.save()
    return task


def follow_up_create_manual(
    *, membership: Membership, title: str, due_date: dt.date, user
) -> FollowUpTask:
    """Ask the member's guide to contact them (a store manager's manual task)."""
    title = title.strip()
    if not title:
        raise ValidationError({"title": _("Say what the guide should do.")})
    task = FollowUpTask(
        membership=membership,
        guide_id=membership.guide_id,
        kind=FollowUpKind.MANUAL,
        occasion=f"manual:{timezone.now():%Y%m%d%H%M%S%f}",
        title=title,
        due_date=due_date,
        created_by=user,
    )
    task.full_clean(exclude=["membership", "guide", "created_by"])
    task.save()
    return task


def _author_name(user) -> str:
    guide = getattr(user, "guide", None)
    return guide.name if guide is not None else (user.get_full_name() or user.get_username())


def note_add(*, membership: Membership, body: str, user) -> MemberNote:
    body = body.strip()
    if not body:
        raise ValidationError({"body": _("Write something.")})
    note = MemberNote(membership=membership, body=body, author=user, author_name=_author_name(user))
    note.full_clean(exclude=["membership", "author"])
    note.save()
    return note


@transaction.atomic
def tag_add(*, membership: Membership, name: str, user) -> MemberTag:
    """Tag a member; a name the brand has no tag for yet becomes a new (guide's) tag."""
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": _("Name the tag.")})
    if len(name) > Tag._meta.get_field("name").max_length:
        raise ValidationError({"name": _("At most 32 characters.")})
    tag, _created = Tag.objects.get_or_create(
        brand_id=membership.brand_id, name=name, defaults={"created_by": user}
    )
    link, _created = MemberTag.objects.get_or_create(
        membership=membership, tag=tag, defaults={"added_by": user}
    )
    return link


def tag_remove(*, membership: Membership, tag_id: int) -> int:
    deleted, _by_model = MemberTag.objects.filter(membership=membership, tag_id=tag_id).delete()
    return deleted


# --- Personal information -------------------------------------------------------------------


def member_follow_ups_stop(*, membership_id: int) -> int:
    """Skip the member's open follow-ups (consent withdrawn or erased); return how many."""
    return FollowUpTask.objects.filter(membership_id=membership_id, status=Status.OPEN).update(
        status=Status.SKIPPED, closed_at=timezone.now()
    )


def member_engagement_erase(*, membership_id: int) -> None:
    """Drop the member's notes and tags and the free text of their follow-ups.

    Follow-up rows stay (they count in guides' completion figures and
    points), without anything written about the member.
    """
    member_follow_ups_stop(membership_id=membership_id)
    FollowUpTask.objects.filter(membership_id=membership_id).update(title="", outcome_note="")
    MemberNote.objects.filter(membership_id=membership_id).delete()
    MemberTag.objects.filter(membership_id=membership_id).delete()


# A member is erased by retention only after a dry-run report named them at
# least this many days earlier: the brand's data protection officer has that
# long to look at the list (and a purchase meanwhile takes the member off it).
RETENTION_NOTICE_DAYS = 6
# A run erases at most this many members per brand (about 45 ms each on the
# 2-core test machine: 15 minutes); the rest stay on the report and go the
# following week.
RETENTION_ERASE_MAX_PER_RUN = 20_000


def _months_before(moment: dt.datetime, months: int) -> dt.datetime:
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    last_day = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


def retention_candidates(*, brand_id: int, cutoff: dt.datetime) -> list[int]:
    """Return the brand's members inactive since ``cutoff``: no purchase, no sign-up, no consent.

    The backend records no member sign-ins; joining and consenting are the
    member's own acts it knows of, besides purchases.
    """
    members = (
        Membership.objects.filter(brand_id=brand_id, erased_at__isnull=True, joined_at__lt=cutoff)
        .exclude(consents__consented_at__gte=cutoff)
        .annotate(last_purchase=last_purchase_subquery())
        .filter(
            Q(last_purchase__isnull=True) | Q(last_purchase__lt=timezone.localtime(cutoff).date())
        )
        .order_by("pk")
    )
    return list(members.values_list("pk", flat=True).distinct())


def retention_run(*, brand_id: int, dry_run: bool, now: dt.datetime | None = None):
    """Run the brand's retention rule; return the run's record, or None for a brand that keeps all.

    A dry run only reports. A real run erases the members that the last dry
    run, at least ``RETENTION_NOTICE_DAYS`` old, reported and that are still
    inactive, then writes a fresh dry-run report for the next run.
    """
    policy = BrandPrivacyPolicy.objects.filter(brand_id=brand_id).first()
    if policy is None or policy.retention_months is None:
        return None
    now = now or timezone.now()
    cutoff = _months_before(now, policy.retention_months)
    candidates = retention_candidates(brand_id=brand_id, cutoff=cutoff)
    if dry_run:
        return RetentionRun.objects.create(
            brand_id=brand_id, dry_run=True, cutoff=cutoff, found=len(candidates),
            membership_ids=candidates,
        )  # fmt: skip
    report = (
        RetentionRun.objects.filter(
            brand_id=brand_id,
            dry_run=True,
            created_at__lte=now - dt.timedelta(days=RETENTION_NOTICE_DAYS),
        )
        .order_by("-created_at", "-pk")
        .first()
    )
    due = sorted(set(candidates) & set(report.membership_ids if report else []))
    due = due[:RETENTION_ERASE_MAX_PER_RUN]
    for membership in Membership.objects.filter(pk__in=due).order_by("pk"):
        membership_erase(membership=membership)
    run = RetentionRun.objects.create(
        brand_id=brand_id, dry_run=False, cutoff=cutoff, found=len(candidates), erased=len(due),
        membership_ids=due,
    )  # fmt: skip
    retention_run(brand_id=brand_id, dry_run=True, now=now)
    return run


def retention_run_all(*, dry_run: bool = False) -> int:
    """Run every brand's retention rule (the weekly job); return how many members were erased."""
    erased = 0
    brand_ids = BrandPrivacyPolicy.objects.filter(retention_months__isnull=False).values_list(
        "brand_id", flat=True
    )
    for brand_id in list(brand_ids):
        run = retention_run(brand_id=brand_id, dry_run=dry_run)
        erased += run.erased if run is not None else 0
    return erased
