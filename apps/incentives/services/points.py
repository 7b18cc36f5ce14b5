"""Points redeemed by HQ: a movement with actor and reason, the balance never below zero."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.guides.models import Guide
from apps.incentives.models import PointsAccount, PointsMovement
from apps.stores.models import Brand


def points_redeem(
    *,
    guide: Guide,
    brand: Brand,
    points: int,
    reward: str,
    reason: str,
    reference: str,
    actor,
) -> tuple[PointsMovement, bool]:
    """Take ``points`` from the guide's balance for a reward; return the movement, whether new.

    ``reference`` is the caller's key: the same reference again returns the
    movement already written. The balance's check constraint refuses a
    redemption above it, also when two run at once: the second waits for the
    first's row lock and then fails the check.
    """
    existing = PointsMovement.objects.filter(reference=reference).first()
    if existing is not None:
        return existing, False
    errors = {}
    if not isinstance(points, int) or points <= 0:
        errors["points"] = _("Redeem a positive whole number of points.")
    if reward not in PointsMovement.Reward.values:
        errors["reward"] = _("Choose a reward: gift, cash, leave or other.")
    if not (reason or "").strip():
        errors["reason"] = _("Say why: the reason is kept with the points ledger.")
    if not (reference or "").strip() or len(reference) > 100:
        errors["reference"] = _("Give a reference of at most 100 characters.")
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            account, _created = PointsAccount.objects.get_or_create(guide=guide, brand=brand)
            movement = PointsMovement.objects.create(
                account=account, kind=PointsMovement.Kind.REDEMPTION, points=-points,
                reward=reward, reason=reason.strip(), reference=reference, actor=actor,
                created_at=timezone.now(),
            )  # fmt: skip
            PointsAccount.objects.filter(pk=account.pk).update(balance=F("balance") - points)
    except IntegrityError:
        existing = PointsMovement.objects.filter(reference=reference).first()
        if existing is not None:
            return existing, False
        raise ValidationError(
            {"points": _("Not enough points: the balance cannot go below zero.")}
        ) from None
    return movement, True
