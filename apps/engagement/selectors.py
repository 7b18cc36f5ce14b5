"""Reads of engagement: members as cards, a member's profile, follow-up lists and rates."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Count, DecimalField, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from apps.commissions.models import CommissionEntry, Order
from apps.core.money import money_from_db
from apps.core.phones import phone_normalise
from apps.core.scoping import Scope, scope_queryset
from apps.customers.models import AssignmentEvent, Membership
from apps.customers.selectors import memberships_in_marketing_use
from apps.engagement.models import FollowUpTask, MemberNote, MemberTag, Tag

SPEND_DAYS = 365
DORMANT_DAYS_DEFAULT = 90
Status = FollowUpTask.Status


def _member_orders(membership_ref: str = "") -> QuerySet[Order]:
    return Order.objects.filter(
        member_phone=OuterRef(f"{membership_ref}customer__phone"),
        brand_id=OuterRef(f"{membership_ref}brand_id"),
    ).order_by()


def member_list(
    *,
    scope: Scope,
    today: dt.date,
    search: str = "",
    brand_id: int | None = None,
    tag_id: int | None = None,
    no_purchase_days: int | None = None,
) -> QuerySet[Membership]:
    """Return the assigned members ``scope`` sees, as cards: last purchase, spend, next follow-up.

    ``search`` matches a name (part of it) or the full phone number, never a
    part of a number, which would uncover masked digits. Tags come prefetched
    (``tag_list``). Three queries per page: the count, the rows with their
    figures, the tags.
    """
    members = scope_queryset(
        memberships_in_marketing_use(
            Membership.objects.filter(assignment_status=Membership.Status.ASSIGNED)
        ),
        scope,
    )
    search = search.strip()
    if search:
        try:
            members = members.filter(customer__phone=phone_normalise(search))
        except ValidationError:  # not a phone number: a name
            members = members.filter(customer__name__icontains=search)
    if brand_id is not None:
        members = members.filter(brand_id=brand_id)
    if tag_id is not None:
        members = members.filter(tag_links__tag_id=tag_id)
    last_purchase = Subquery(
        _member_orders().order_by("-business_date").values("business_date")[:1]
    )
    spent = (
        _member_orders()
        .filter(business_date__gt=today - dt.timedelta(days=SPEND_DAYS))
        .values("member_phone")
        .annotate(total=Sum(F("amount") - F("refunded_amount")))
        .values("total")
    )
    next_due = (
        FollowUpTask.objects.filter(membership=OuterRef("pk"), status=Status.OPEN)
        .order_by("due_date")
        .values("due_date")[:1]
    )
    members = members.annotate(
        last_purchase=last_purchase,
        spend_12m=Coalesce(
            Subquery(spent, output_field=DecimalField(max_digits=14, decimal_places=2)),
            Decimal("0"),
            output_field=DecimalField(max_digits=14, decimal_places=2),
        ),
        next_follow_up=Subquery(next_due),
    )
    if no_purchase_days is not None:
        cutoff = today - dt.timedelta(days=no_purchase_days)
        members = members.filter(Q(last_purchase__isnull=True) | Q(last_purchase__lt=cutoff))
    if scope.is_guide_only or scope.is_one_store:
        # A guide's or a store's members: whoever is due first comes first.
        ordering = [F("next_follow_up").asc(nulls_last=True), "-bound_at", "-pk"]
    else:
        # A region's or HQ's millions: sorting by a per-row subquery would
        # compute it for every member before the first page; newest first.
        ordering = ["-pk"]
    return (
        members.select_related("customer", "brand", "store", "guide")
        .prefetch_related(
            Prefetch(
                "tag_links",
                queryset=MemberTag.objects.select_related("tag").order_by("tag__name"),
                to_attr="tag_list",
            )
        )
        .order_by(*ordering)
    )


def member_get(*, scope: Scope, membership_id: int) -> Membership | None:
    """Return one member ``scope`` sees (any assignment state), or None.

    Below HQ, a member who withdrew consent or was erased is nobody's to see.
    """
    members = Membership.objects.all()
    if not scope.everything:
        members = memberships_in_marketing_use(members)
    return (
        scope_queryset(members, scope)
        .select_related("customer", "brand", "store", "guide", "requested_guide")
        .filter(pk=membership_id)
        .first()
    )


@dataclass(frozen=True)
class Purchase:
    order: Order
    net: Decimal
    commission: Decimal


def member_purchases(*, membership: Membership, scope: Scope, limit: int = 50) -> list[Purchase]:
    """Return the member's orders of the brand, newest first, with refunds and commission.

    The commission is what the orders earned the viewer: a guide's own
    entries, a store manager's store's and its guides' (the ledger's scope).
    """
    orders = list(
        Order.objects.filter(member_phone=membership.customer.phone, brand_id=membership.brand_id)
        .select_related("store", "attributed_guide")
        .prefetch_related("refunds")
        .order_by("-paid_at", "-pk")[:limit]
    )
    earned = dict(
        scope_queryset(CommissionEntry.objects.filter(order__in=orders), scope)
        .order_by()
        .values("order_id")
        .annotate(total=Sum("amount"))
        .values_list("order_id", "total")
    )
    return [
        Purchase(order, order.amount - order.refunded_amount, money_from_db(earned.get(order.pk)))
        for order in orders
    ]


def member_notes(*, membership: Membership) -> list[MemberNote]:
    return list(MemberNote.objects.filter(membership=membership).order_by("-created_at", "-pk"))


def member_tags(*, membership: Membership) -> list[MemberTag]:
    return list(
        MemberTag.objects.filter(membership=membership).select_related("tag").order_by("tag__name")
    )


def member_follow_ups(*, membership: Membership) -> list[FollowUpTask]:
    return list(
        FollowUpTask.objects.filter(membership=membership)
        .select_related("guide", "closed_by_guide")
        .order_by(F("closed_at").desc(nulls_first=True), "due_date", "pk")
    )


def member_events(*, membership: Membership) -> list[AssignmentEvent]:
    return list(
        AssignmentEvent.objects.filter(membership=membership)
        .select_related("from_store", "from_guide", "to_store", "to_guide", "actor")
        .order_by("created_at", "pk")
    )


def brand_tags(*, brand_ids) -> list[Tag]:
    return list(Tag.objects.filter(brand_id__in=brand_ids).order_by("-is_official", "name"))


def follow_up_list(*, scope: Scope, status: str | None = Status.OPEN) -> QuerySet[FollowUpTask]:
    """Return the follow-ups ``scope`` sees: a guide's own, a store's, a region's."""
    tasks = scope_queryset(
        memberships_in_marketing_use(FollowUpTask.objects.all(), prefix="membership__"),
        scope,
        store_field="membership__store",
        guide_field="guide",
    )
    if status:
        tasks = tasks.filter(status=status)
    return tasks.select_related("membership__customer", "membership__brand", "guide").order_by(
        "due_date", "pk"
    )


@dataclass(frozen=True)
class FollowUpCounts:
    today: int
    overdue: int


def follow_up_counts(*, scope: Scope, today: dt.date) -> FollowUpCounts:
    """Open follow-ups due today and overdue, for the dashboard: one query."""
    counts = (
        follow_up_list(scope=scope)
        .order_by()
        .aggregate(
            today=Count("pk", filter=Q(due_date=today)),
            overdue=Count("pk", filter=Q(due_date__lt=today)),
        )
    )
    return FollowUpCounts(today=counts["today"], overdue=counts["overdue"])


@dataclass(frozen=True)
class Completion:
    guide_id: int | None
    guide_name: str
    due: int
    done: int
    skipped: int

    @property
    def rate(self) -> int | None:
        """Percent of the tasks due that were done (skips count as not done)."""
        return round(self.done * 100 / self.due) if self.due else None


def follow_up_completion(
    *, scope: Scope, first_day: dt.date, today: dt.date, by: str = "guide"
) -> list[Completion]:
    """Each guide's (or store's, ``by="store"``) follow-ups due from ``first_day`` to today.

    Closed tasks stay with the guide they were assigned to when closed; open
    ones move with their member.
    """
    tasks = follow_up_list(scope=scope, status=None).filter(
        due_date__gte=first_day, due_date__lte=today
    )
    if by == "store":
        key, name = "membership__store_id", "membership__store__name"
    else:
        key, name = "guide_id", "guide__name"
    rows = (
        tasks.order_by()
        .values(key, name)
        .annotate(
            due=Count("pk"),
            done=Count("pk", filter=Q(status=Status.DONE)),
            skipped=Count("pk", filter=Q(status=Status.SKIPPED)),
        )
        .order_by(name)
    )
    return [
        Completion(row[key], row[name] or "-", row["due"], row["done"], row["skipped"])
        for row in rows
    ]
