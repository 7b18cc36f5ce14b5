"""Writes of the rules that price the ledger: commission plans, settlement terms, brand policies.

Every writer of these rules (the API, the admin, the demo) calls these
functions: they validate, take the brand's locks and save (which writes the
history row). A plan that entries already use is history: its rates, scope
and start never change; HQ ends it (``valid_to``) and adds a successor.
"""

import copy
import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.commissions.models import (
    BrandCommissionPolicy,
    CommissionEntry,
    CommissionPlan,
    SettlementMode,
    SettlementTerms,
)
from apps.commissions.services.entries import cutoffs_lock
from apps.stores.models import Brand, Store

# What prices an entry: fixed once a plan has entries.
PLAN_FROZEN_FIELDS = (
    "brand", "store", "store_kind", "category", "guide_rate", "store_rate", "valid_from",
)  # fmt: skip
PLAN_FIELDS = (*PLAN_FROZEN_FIELDS, "valid_to")
MAX_RATES_TOTAL = Decimal(100)


def plan_specificity(*, store: Store | None, store_kind: str, category: str) -> int:
    """Rank a plan's scope: store+category > store > kind+category > kind > category > brand."""
    spec = CommissionPlan.Specificity
    if store is not None:
        return spec.STORE_CATEGORY if category else spec.STORE
    if store_kind:
        return spec.KIND_CATEGORY if category else spec.KIND
    return spec.CATEGORY if category else spec.BRAND


def _brand_lock(brand_id: int, *, ledger_writers: bool = False) -> None:
    """Take a brand's lock for its rules; with ``ledger_writers``, wait out its entry writers too.

    Entry writers share-lock the brand's settlement cutoffs for their whole
    transaction (``cutoffs_lock``) and read plans and terms in it; holding
    those rows exclusively, a rule change lands between two writers, never
    under one.
    """
    Brand.objects.select_for_update().filter(pk=brand_id).first()
    if ledger_writers:
        with connection.cursor() as cursor:
            cutoffs_lock(cursor, brand_ids=[brand_id], for_update=True)


def plan_has_entries(plan: CommissionPlan) -> bool:
    """Return whether any ledger entry was priced by ``plan``.

    Entries carry no index on their plan (each would cost every sale day's
    million inserts), so this reads the ledger: at once for a plan in use,
    after a scan for one that is not. A plan starting after tomorrow cannot
    have priced anything yet.
    """
    if plan.pk is None or plan.valid_from > timezone.localdate() + dt.timedelta(days=1):
        return False
    return CommissionEntry.objects.filter(plan_id=plan.pk).exists()


def commission_plan_validate(plan: CommissionPlan) -> None:
    """Reject a plan whose rates exceed the sale or whose scope and validity overlap another.

    ``plan.specificity`` must already be set (``plan_specificity``).
    """
    errors = {}
    if (
        plan.guide_rate is not None
        and plan.store_rate is not None
        and plan.guide_rate + plan.store_rate > MAX_RATES_TOTAL
    ):
        message = _("The guide rate and the store rate together must not exceed 100 %.")
        errors.update(guide_rate=message, store_rate=message)
    if plan.store_id and plan.store_kind:
        errors["store_kind"] = _("Give a store or a store kind, not both.")
    elif plan.store_id and not plan.store.brands.filter(pk=plan.brand_id).exists():
        errors["store"] = _("This store does not carry the plan's brand.")
    if errors:
        raise ValidationError(errors)
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


def commission_plan_check_changes(plan: CommissionPlan, changes: dict) -> None:
    """Reject changes that would rewrite what ``plan`` already priced.

    A plan with entries keeps its rates, scope and start; it may end
    (``valid_to``), but not before the last day it priced.
    """
    unknown = set(changes) - set(PLAN_FIELDS)
    if unknown:
        raise ValidationError({field: _("This field cannot be changed.") for field in unknown})
    frozen = [field for field in PLAN_FROZEN_FIELDS if field in changes]
    if not frozen and "valid_to" not in changes:
        return
    if not plan_has_entries(plan):
        return
    if frozen:
        message = _(
            "This plan has priced ledger entries, so its rates, scope and start are fixed: "
            "end it (valid to) and add a successor."
        )
        raise ValidationError(dict.fromkeys(frozen, message))
    valid_to = changes["valid_to"]
    if valid_to is not None:
        priced_later = CommissionEntry.objects.filter(plan_id=plan.pk, business_date__gt=valid_to)
        if priced_later.exists():
            raise ValidationError(
                {
                    "valid_to": _(
                        "This plan priced entries dated after this day: end it on the day of "
                        "its last entry or later."
                    )
                }
            )


def commission_plan_check(*, plan: CommissionPlan | None = None, **fields) -> CommissionPlan:
    """Validate a new plan (no ``plan``) or changes to ``plan``; return it as it would be saved.

    The returned plan is not saved (``plan`` itself is left as it was); the
    admin's form calls this to show the errors the service would raise.
    """
    if plan is None:
        candidate = CommissionPlan(**fields)
    else:
        changes = _plan_changes(plan, fields)
        commission_plan_check_changes(plan, changes)
        candidate = copy.copy(plan)
        for name, value in changes.items():
            setattr(candidate, name, value)
    candidate.specificity = plan_specificity(
        store=candidate.store, store_kind=candidate.store_kind, category=candidate.category
    )
    commission_plan_validate(candidate)
    return candidate


def _plan_changes(plan: CommissionPlan, fields: dict) -> dict:
    """Return the entries of ``fields`` that differ from ``plan``'s values."""
    changes = {}
    for name, value in fields.items():
        current = getattr(plan, name, None)
        if name in ("brand", "store"):
            current = getattr(plan, f"{name}_id")
            value = value.pk if value is not None else None
        if current != value:
            changes[name] = fields[name]
    return changes


def _plan_save(plan: CommissionPlan) -> CommissionPlan:
    plan.full_clean()
    plan.save()
    return plan


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
    _brand_lock(brand.pk)
    return _plan_save(
        commission_plan_check(
            brand=brand,
            store=store,
            store_kind=store_kind,
            category=category,
            guide_rate=guide_rate,
            store_rate=store_rate,
            valid_from=valid_from,
            valid_to=valid_to,
        )
    )


@transaction.atomic
def commission_plan_update(*, plan: CommissionPlan, **fields) -> CommissionPlan:
    """Change a plan; once it has priced entries, only its end (``valid_to``) may change."""
    _brand_lock(plan.brand_id, ledger_writers=True)
    if "brand" in fields and fields["brand"].pk != plan.brand_id:
        _brand_lock(fields["brand"].pk)
    locked = CommissionPlan.objects.select_for_update().get(pk=plan.pk)
    return _plan_save(commission_plan_check(plan=locked, **fields))


@transaction.atomic
def commission_plan_succeed(
    *,
    plan: CommissionPlan,
    valid_from: dt.date,
    guide_rate: Decimal,
    store_rate: Decimal,
    valid_to: dt.date | None = None,
) -> CommissionPlan:
    """End ``plan`` the day before ``valid_from`` and add its successor with the same scope.

    Both in one transaction: the history shows the end and the new plan.
    """
    if valid_from <= plan.valid_from:
        raise ValidationError(
            {"valid_from": _("A successor starts after the plan it follows starts.")}
        )
    ended = commission_plan_update(plan=plan, valid_to=valid_from - dt.timedelta(days=1))
    return commission_plan_create(
        brand=ended.brand,
        store=ended.store,
        store_kind=ended.store_kind,
        category=ended.category,
        guide_rate=guide_rate,
        store_rate=store_rate,
        valid_from=valid_from,
        valid_to=valid_to,
    )


@transaction.atomic
def commission_plan_delete(*, plan: CommissionPlan) -> None:
    """Delete a plan that never priced an entry (a mistake); one that did is ended instead."""
    _brand_lock(plan.brand_id, ledger_writers=True)
    if plan_has_entries(plan):
        raise ValidationError(
            _("This plan has priced ledger entries: end it (valid to) instead of deleting it.")
        )
    plan.delete()


def settlement_terms_check(
    *, brand: Brand, mode: str, store: Store | None = None, hold_days: int | None = None
) -> int:
    """Validate terms; return the hold in days that ``mode`` means."""
    fixed_hold = {SettlementMode.T0: 0, SettlementMode.T1: 1, SettlementMode.MONTHLY: 0}
    if mode == SettlementMode.TN:
        if not hold_days or hold_days < 1:
            raise ValidationError({"hold_days": _("T+N needs a hold of at least one day.")})
    else:
        hold_days = fixed_hold[SettlementMode(mode)]
    if store is not None and not store.brands.filter(pk=brand.pk).exists():
        raise ValidationError({"store": _("This store does not carry the brand.")})
    return hold_days


@transaction.atomic
def settlement_terms_set(
    *, brand: Brand, mode: str, store: Store | None = None, hold_days: int | None = None
) -> SettlementTerms:
    """Set the brand default (no store) or a store's settlement terms.

    Entries already written keep the terms they were written under.
    """
    hold_days = settlement_terms_check(brand=brand, mode=mode, store=store, hold_days=hold_days)
    _brand_lock(brand.pk, ledger_writers=True)
    terms, _created = SettlementTerms.objects.update_or_create(
        brand=brand, store=store, defaults={"mode": mode, "hold_days": hold_days}
    )
    return terms


@transaction.atomic
def settlement_terms_delete(*, terms: SettlementTerms) -> None:
    """Drop a store's own terms (the brand default applies again) or the brand default (T+1)."""
    _brand_lock(terms.brand_id, ledger_writers=True)
    terms.delete()


@transaction.atomic
def brand_commission_policy_set(
    *,
    brand: Brand,
    attribution_policy: str = BrandCommissionPolicy.AttributionPolicy.ORDER_GUIDE_FIRST,
    binding_days: int | None = None,
    till_grace_minutes: int | None = None,
) -> BrandCommissionPolicy:
    """Set how a brand attributes orders to guides (one policy per brand).

    Orders already attributed keep their attribution.
    """
    _brand_lock(brand.pk)
    policy = BrandCommissionPolicy.objects.filter(brand=brand).first() or BrandCommissionPolicy(
        brand=brand
    )
    policy.attribution_policy = attribution_policy
    policy.binding_days = binding_days
    if till_grace_minutes is not None:
        policy.till_grace_minutes = till_grace_minutes
    policy.full_clean()
    policy.save()
    return policy
