"""Writes of the rules that price the ledger: commission plans and settlement terms."""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from apps.commissions.models import CommissionPlan, SettlementMode, SettlementTerms
from apps.stores.models import Brand, Store


def plan_specificity(*, store: Store | None, store_kind: str, category: str) -> int:
    """Rank a plan's scope: store+category > store > kind+category > kind > category > brand."""
    spec = CommissionPlan.Specificity
    if store is not None:
        return spec.STORE_CATEGORY if category else spec.STORE
    if store_kind:
        return spec.KIND_CATEGORY if category else spec.KIND
    return spec.CATEGORY if category else spec.BRAND


def commission_plan_validate(plan: CommissionPlan) -> None:
    """Reject a plan whose scope and validity overlap another plan of equal specificity.

    ``plan.specificity`` must already be set (``plan_specificity``).
    """
    if plan.store_id and plan.store_kind:
        raise ValidationError({"store_kind": _("Give a store or a store kind, not both.")})
    if plan.store_id and not plan.store.brands.filter(pk=plan.brand_id).exists():
        raise ValidationError({"store": _("This store does not carry the plan's brand.")})
    overlapping = CommissionPlan.objects.filter(
        brand_id=plan.brand_id,
        store_id=plan.store_id,
        store_kind=plan.store_kind,
        category=plan.category,
        specificity=plan.specificity,
    ).exclude(pk=plan.pk)
    overlapping = overlapping.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=plan.valid_from))
    if plan.valid_to is not None:
        overlapping = overlapping.filter(valid_from__lte=plan.valid_to)
    if overlapping.exists():
        raise ValidationError(
            {"valid_from": _("Another plan with the same scope is valid in this period.")}
        )


@transaction.atomic
def commission_plan_create(
    *,
    brand: Brand,
    guide_rate: Decimal,
    store_rate: Decimal,
    valid_from: dt.date,
    valid_to: dt.date | None = None,
    store: Store | None = None,
    store_kind: str = "",
    category: str = "",
) -> CommissionPlan:
    """Create a plan; overlapping plans of equal specificity are rejected."""
    # Plans of one brand are checked for overlap one at a time.
    Brand.objects.select_for_update().filter(pk=brand.pk).first()
    plan = CommissionPlan(
        brand=brand,
        store=store,
        store_kind=store_kind,
        category=category,
        guide_rate=guide_rate,
        store_rate=store_rate,
        valid_from=valid_from,
        valid_to=valid_to,
        specificity=plan_specificity(store=store, store_kind=store_kind, category=category),
    )
    commission_plan_validate(plan)
    plan.full_clean()
    plan.save()
    return plan


def settlement_terms_set(
    *, brand: Brand, mode: str, store: Store | None = None, hold_days: int | None = None
) -> SettlementTerms:
    """Set the brand default (no store) or a store's settlement terms."""
    fixed_hold = {SettlementMode.T0: 0, SettlementMode.T1: 1, SettlementMode.MONTHLY: 0}
    if mode == SettlementMode.TN:
        if not hold_days or hold_days < 1:
            raise ValidationError({"hold_days": _("T+N needs a hold of at least one day.")})
    else:
        hold_days = fixed_hold[SettlementMode(mode)]
    if store is not None and not store.brands.filter(pk=brand.pk).exists():
        raise ValidationError({"store": _("This store does not carry the brand.")})
    terms, _created = SettlementTerms.objects.update_or_create(
        brand=brand, store=store, defaults={"mode": mode, "hold_days": hold_days}
    )
    return terms
