"""Reads of the commissions app."""

import datetime as dt

from django.db.models import F, Q, QuerySet

from apps.commissions.models import CommissionEntry, CommissionPlan, Settlement, SettlementTerms
from apps.core.scoping import Scope, scope_queryset
from apps.stores.models import Store


def unsettled_q() -> Q:
    """Match entries not yet settled: T+0 in flight, or in a settlement still open."""
    return Q(settlement__isnull=True) | Q(settlement__status=Settlement.Status.OPEN)


def commission_plan_for(
    *, brand_id: int, store: Store, category: str, business_date: dt.date
) -> CommissionPlan | None:
    """Return the most specific plan valid on ``business_date`` (the per-order reference)."""
    return (
        CommissionPlan.objects.filter(
            Q(store__isnull=True) | Q(store=store),
            Q(store_kind="") | Q(store_kind=store.kind),
            Q(category="") | Q(category=category),
            Q(valid_to__isnull=True) | Q(valid_to__gte=business_date),
            brand_id=brand_id,
            valid_from__lte=business_date,
        )
        .order_by("-specificity", "-valid_from")
        .first()
    )


def settlement_terms_for(*, brand_id: int, store_id: int) -> tuple[str, int]:
    """Return (mode, hold_days) for a store and brand: the store's terms, the brand's, or T+1."""
    terms = (
        SettlementTerms.objects.filter(
            Q(store_id=store_id) | Q(store__isnull=True), brand_id=brand_id
        )
        .order_by(F("store_id").asc(nulls_last=True))
        .first()
    )
    if terms is None:
        return "T1", 1
    return terms.mode, terms.hold_days


def commission_entry_list(*, scope: Scope) -> QuerySet[CommissionEntry]:
    return scope_queryset(
        CommissionEntry.objects.select_related(
            "order", "refund", "guide", "store", "brand", "settlement"
        ),
        scope,
    )


def settlement_list(*, scope: Scope) -> QuerySet[Settlement]:
    return scope_queryset(Settlement.objects.select_related("guide", "store", "brand"), scope)
