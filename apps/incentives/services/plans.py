"""Bonus plans: validated brackets, scope and months; a plan that has paid is frozen."""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from apps.incentives.brackets import brackets_parse, brackets_to_json
from apps.incentives.models import BonusAward, BonusPlan, IncentivePolicy
from apps.stores.models import Brand, Store

# Fields of a plan that a paid bonus froze: they can no longer change.
FROZEN_ONCE_PAID = ("brand", "beneficiary", "store_kind", "store", "basis", "brackets", "cap",
                    "valid_from")  # fmt: skip


def bonus_plan_specificity(*, store: Store | None, store_kind: str) -> int:
    if store is not None:
        return BonusPlan.Specificity.STORE
    if store_kind:
        return BonusPlan.Specificity.KIND
    return BonusPlan.Specificity.BRAND


def bonus_plan_validate(plan: BonusPlan) -> None:
    """Check a plan (new or changed) before it is saved; errors name the fields."""
    errors = {}
    try:
        plan.brackets = brackets_to_json(brackets_parse(plan.brackets))
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if plan.store_id and plan.store_kind:
        errors["store_kind"] = _("Give a store or a store kind, not both.")
    if plan.store_id and plan.brand_id and not plan.store.brands.filter(pk=plan.brand_id).exists():
        errors["store"] = _("This store does not carry the brand.")
    if plan.valid_from and plan.valid_from.day != 1:
        errors["valid_from"] = _("Plans start on the first day of a month.")
    if plan.valid_to and plan.valid_to.day != 1:
        errors["valid_to"] = _("Give the last month as its first day.")
    if plan.valid_from and plan.valid_to and plan.valid_to < plan.valid_from:
        errors["valid_to"] = _("The last month is before the first.")
    if plan.cap is not None and plan.cap < 0:
        errors["cap"] = _("The cap is not negative; leave it empty for none.")
    if errors:
        raise ValidationError(errors)
    plan.specificity = bonus_plan_specificity(store=plan.store, store_kind=plan.store_kind)
    overlapping = BonusPlan.objects.filter(
        brand_id=plan.brand_id,
        beneficiary=plan.beneficiary,
        store_id=plan.store_id,
        store_kind=plan.store_kind,
    ).exclude(pk=plan.pk)
    last = plan.valid_to or dt.date.max
    overlapping = overlapping.filter(valid_from__lte=last).exclude(valid_to__lt=plan.valid_from)
    if overlapping.exists():
        raise ValidationError(
            {"valid_from": _("Another plan of the same scope covers some of these months.")}
        )


def bonus_plan_create(
    *,
    name: str,
    brand: Brand,
    beneficiary: str,
    basis: str,
    brackets: list,
    valid_from: dt.date,
    valid_to: dt.date | None = None,
    cap: Decimal | None = None,
    store: Store | None = None,
    store_kind: str = "",
) -> BonusPlan:
    plan = BonusPlan(
        name=name, brand=brand, beneficiary=beneficiary, basis=basis, brackets=brackets,
        valid_from=valid_from, valid_to=valid_to, cap=cap, store=store, store_kind=store_kind,
    )  # fmt: skip
    with transaction.atomic():
        Brand.objects.select_for_update().get(pk=brand.pk)
        bonus_plan_validate(plan)
        plan.full_clean(exclude=["specificity"])
        plan.save()
    return plan


def bonus_plan_update(*, plan: BonusPlan, **changes) -> BonusPlan:
    """Change a plan; once it paid a bonus only its name and last month may change."""
    with transaction.atomic():
        Brand.objects.select_for_update().get(pk=plan.brand_id)
        if BonusAward.objects.filter(plan=plan).exists():
            frozen = sorted(
                name
                for name in changes
                if name in FROZEN_ONCE_PAID and changes[name] != getattr(plan, name)
            )
            if frozen:
                raise ValidationError(
                    {
                        name: _("This plan has paid bonuses: end it and start another.")
                        for name in frozen
                    }
                )
            last_paid = (
                BonusAward.objects.filter(plan=plan)
                .order_by("-month")
                .values_list("month", flat=True)
                .first()
            )
            valid_to = changes.get("valid_to", plan.valid_to)
            if valid_to is not None and valid_to < last_paid:
                raise ValidationError({"valid_to": _("The plan paid bonuses for a later month.")})
        for name, value in changes.items():
            setattr(plan, name, value)
        bonus_plan_validate(plan)
        plan.full_clean(exclude=["specificity"])
        plan.save()
    return plan


def incentive_policy_set(*, brand: Brand, **fields) -> IncentivePolicy:
    """Create or change a brand's incentive policy (close hold, points rules), validated."""
    with transaction.atomic():
        Brand.objects.select_for_update().get(pk=brand.pk)
        policy = IncentivePolicy.objects.filter(brand=brand).first() or IncentivePolicy(brand=brand)
        for name, value in fields.items():
            setattr(policy, name, value)
        policy.full_clean()
        policy.save()
    return policy
