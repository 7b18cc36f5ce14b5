"""Incentives: monthly targets, bonus plans and the bonuses they paid, and guide points.

A bonus is paid once per beneficiary and month by the month close
(``services.close``): a ``BonusAward`` of revision 0 freezes the inputs
(net sales, target, plan, brackets reached) and books its amount as one
commission entry of kind ``bonus``. A refund after the close is never an
edit: the next run writes revision 1, 2 … with the new inputs and books the
difference. Points are a ledger of their own: movements with actor and
reason, and a balance per guide and brand that never goes below zero.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from apps.commissions.models import Beneficiary, CommissionEntry, money_field
from apps.guides.models import Guide
from apps.stores.models import Brand, Store

# A month is stored as its first day.
MONTH_HELP = _("The first day of the month.")
DEFAULT_CLOSE_HOLD_DAYS = 7
MAX_CLOSE_HOLD_DAYS = 90
MAX_POINTS_EXPIRY_MONTHS = 120


class IncentivePolicy(models.Model):
    """A brand's rules for the month close and for points."""

    brand = models.OneToOneField(
        Brand, verbose_name=_("brand"), on_delete=models.CASCADE, related_name="incentive_policy"
    )
    close_hold_days = models.PositiveSmallIntegerField(
        _("close after (days)"),
        default=DEFAULT_CLOSE_HOLD_DAYS,
        validators=[MaxValueValidator(MAX_CLOSE_HOLD_DAYS)],
        help_text=_(
            "Days after the month's end the close waits for returns; later refunds become "
            "bonus adjustments."
        ),
    )
    points_per_member = models.PositiveIntegerField(
        _("points per member bound"), default=0, help_text=_("Per member bound to the guide.")
    )
    points_per_100_sales = models.PositiveIntegerField(_("points per ¥100 of net sales"), default=0)
    points_per_follow_up = models.PositiveIntegerField(
        _("points per follow-up done on time"), default=0
    )
    points_expire_months = models.PositiveSmallIntegerField(
        _("points expire after (months)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_POINTS_EXPIRY_MONTHS)],
        help_text=_(
            "Points earned for a month and not yet spent expire this many months after that "
            "month ends (3: March's points expire on 1 July). Empty: points never expire."
        ),
    )

    class Meta:
        verbose_name = _("incentive policy")
        verbose_name_plural = _("incentive policies")
        constraints = [
            models.CheckConstraint(
                condition=Q(close_hold_days__lte=MAX_CLOSE_HOLD_DAYS),
                name="incentive_policy_hold_bounded",
            ),
            models.CheckConstraint(
                condition=Q(points_expire_months__isnull=True)
                | Q(
                    points_expire_months__gte=1, points_expire_months__lte=MAX_POINTS_EXPIRY_MONTHS
                ),
                name="incentive_policy_expiry_bounded",
            ),
        ]

    def __str__(self):
        return f"{self.brand.code}: +{self.close_hold_days}d"


class SalesTarget(models.Model):
    """A monthly net-sales target for one guide or one store, per brand."""

    brand = models.ForeignKey(
        Brand, verbose_name=_("brand"), on_delete=models.PROTECT, related_name="sales_targets"
    )
    beneficiary = models.CharField(_("for"), max_length=8, choices=Beneficiary.choices)
    guide = models.ForeignKey(
        Guide,
        verbose_name=_("guide"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sales_targets",
    )
    store = models.ForeignKey(
        Store,
        verbose_name=_("store"),
        on_delete=models.PROTECT,
        related_name="sales_targets",
        help_text=_("The store, or the guide's store."),
    )
    month = models.DateField(_("month"), help_text=MONTH_HELP)
    amount = money_field(_("target (¥)"))
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("set by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("sales target")
        verbose_name_plural = _("sales targets")
        ordering = ["-month", "brand", "store", "guide"]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "guide", "month"],
                condition=Q(beneficiary="guide"),
                name="target_once_per_guide_month",
            ),
            models.UniqueConstraint(
                fields=["brand", "store", "month"],
                condition=Q(beneficiary="store"),
                name="target_once_per_store_month",
            ),
            models.CheckConstraint(
                condition=Q(beneficiary="guide", guide__isnull=False)
                | Q(beneficiary="store", guide__isnull=True),
                name="target_beneficiary_matches",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="target_amount_positive"),
            models.CheckConstraint(condition=Q(month__day=1), name="target_month_first_day"),
        ]
        indexes = [models.Index(fields=["brand", "month"], name="target_brand_month_idx")]

    def __str__(self):
        who = self.guide.employee_no if self.guide_id else self.store.code
        return f"{self.brand.code} {who} {self.month:%Y-%m}: {self.amount}"


class BonusPlan(models.Model):
    """Progressive brackets on a month's net sales or achievement, per brand.

    ``brackets`` is a list of ``{"from": "100", "to": "120", "rate": "1"}``:
    bounds in percent of the target (basis ``achievement``) or in yuan
    (basis ``net_sales``), ``to`` empty for the last bracket; each slice of
    sales between the bounds is paid at its own rate (percent). Validated by
    ``brackets.brackets_validate``. The most specific plan valid in the month
    wins: store > store kind > brand.
    """

    class Basis(models.TextChoices):
        ACHIEVEMENT = "achievement", _("Achievement (percentage of target)")
        NET_SALES = "net_sales", _("Net sales (¥)")

    class Specificity(models.IntegerChoices):
        BRAND = 1, _("Brand")
        KIND = 2, _("Store kind")
        STORE = 3, _("Store")

    name = models.CharField(_("name"), max_length=100)
    brand = models.ForeignKey(
        Brand, verbose_name=_("brand"), on_delete=models.PROTECT, related_name="bonus_plans"
    )
    beneficiary = models.CharField(_("pays"), max_length=8, choices=Beneficiary.choices)
    store_kind = models.CharField(
        _("store kind"), max_length=16, choices=Store.Kind.choices, blank=True
    )
    store = models.ForeignKey(
        Store,
        verbose_name=_("store"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bonus_plans",
    )
    basis = models.CharField(_("basis"), max_length=16, choices=Basis.choices)
    brackets = models.JSONField(_("brackets"))
    cap = money_field(_("cap per month (¥)"), null=True, blank=True, help_text=_("Empty: no cap."))
    valid_from = models.DateField(_("first month"), help_text=MONTH_HELP)
    valid_to = models.DateField(
        _("last month"), null=True, blank=True, help_text=_("Empty: open-ended.")
    )
    specificity = models.PositiveSmallIntegerField(
        _("specificity"), choices=Specificity.choices, editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("bonus plan")
        verbose_name_plural = _("bonus plans")
        ordering = ["brand", "-specificity", "-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(cap__isnull=True) | Q(cap__gte=0), name="bonus_plan_cap_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="bonus_plan_valid_to_after_from",
            ),
            models.CheckConstraint(
                condition=Q(valid_from__day=1) & (Q(valid_to__isnull=True) | Q(valid_to__day=1)),
                name="bonus_plan_whole_months",
            ),
            models.CheckConstraint(
                condition=Q(specificity=3, store__isnull=False, store_kind="")
                | Q(specificity=2, store__isnull=True) & ~Q(store_kind="")
                | Q(specificity=1, store__isnull=True, store_kind=""),
                name="bonus_plan_specificity_matches_scope",
            ),
        ]

    def __str__(self):
        return f"{self.brand.code} {self.name} ({self.get_beneficiary_display()})"


class BonusMonthClose(models.Model):
    """One brand's month close: the row every close and adjustment run of the month locks."""

    brand = models.ForeignKey(
        Brand, verbose_name=_("brand"), on_delete=models.PROTECT, related_name="+"
    )
    month = models.DateField(_("month"), help_text=MONTH_HELP)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    last_checked_at = models.DateTimeField(_("last checked for refunds"), null=True, blank=True)

    class Meta:
        verbose_name = _("bonus month close")
        verbose_name_plural = _("bonus month closes")
        ordering = ["-month", "brand"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "month"], name="bonus_close_once_per_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="bonus_close_month_first_day"),
        ]

    def __str__(self):
        return f"{self.brand_id} {self.month:%Y-%m}"


class BonusAward(models.Model):
    """A beneficiary's bonus for a month as computed at one run, with its inputs frozen.

    Revision 0 is the close; each later revision is written only when a
    refund (or a late sale) changed the bonus, and ``amount`` is what it adds
    to the revisions before (``bonus`` minus the previous revision's). The
    entry books ``amount``; a zero amount books none.
    """

    brand = models.ForeignKey(
        Brand, verbose_name=_("brand"), on_delete=models.PROTECT, related_name="+"
    )
    month = models.DateField(_("month"), help_text=MONTH_HELP)
    revision = models.PositiveSmallIntegerField(_("revision"), default=0)
    beneficiary = models.CharField(_("beneficiary"), max_length=8, choices=Beneficiary.choices)
    guide = models.ForeignKey(
        Guide,
        verbose_name=_("guide"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bonus_awards",
    )
    store = models.ForeignKey(
        Store, verbose_name=_("store"), on_delete=models.PROTECT, related_name="bonus_awards"
    )
    target = models.ForeignKey(
        SalesTarget, verbose_name=_("target"), on_delete=models.PROTECT, related_name="awards"
    )
    plan = models.ForeignKey(
        BonusPlan, verbose_name=_("plan"), on_delete=models.PROTECT, related_name="awards"
    )
    # The frozen inputs: what the bonus was computed from, whatever changes later.
    net_sales = money_field(_("net sales"))
    target_amount = money_field(_("target"))
    basis = models.CharField(_("basis"), max_length=16, choices=BonusPlan.Basis.choices)
    brackets = models.JSONField(_("brackets"))
    cap = money_field(_("cap"), null=True, blank=True)
    brackets_reached = models.PositiveSmallIntegerField(_("brackets reached"))
    bonus = money_field(_("bonus for the month"))
    amount = money_field(_("amount booked"), help_text=_("This revision's change of the bonus."))
    entry = models.OneToOneField(
        CommissionEntry,
        verbose_name=_("ledger entry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    created_at = models.DateTimeField(_("written at"))

    class Meta:
        verbose_name = _("bonus award")
        verbose_name_plural = _("bonus awards")
        ordering = ["-month", "brand", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "guide", "month", "revision"],
                condition=Q(beneficiary="guide"),
                name="bonus_once_per_guide_month_revision",
            ),
            models.UniqueConstraint(
                fields=["brand", "store", "month", "revision"],
                condition=Q(beneficiary="store"),
                name="bonus_once_per_store_month_revision",
            ),
            models.CheckConstraint(
                condition=Q(beneficiary="guide", guide__isnull=False)
                | Q(beneficiary="store", guide__isnull=True),
                name="bonus_beneficiary_matches",
            ),
            models.CheckConstraint(condition=Q(bonus__gte=0), name="bonus_not_negative"),
            models.CheckConstraint(
                condition=Q(cap__isnull=True) | Q(bonus__lte=F("cap")), name="bonus_within_cap"
            ),
            # The close (revision 0) books the whole bonus; a later revision
            # exists only because the bonus changed.
            models.CheckConstraint(
                condition=Q(revision=0, amount=F("bonus")) | (Q(revision__gt=0) & ~Q(amount=0)),
                name="bonus_revision_books_change",
            ),
        ]
        indexes = [models.Index(fields=["brand", "month"], name="bonus_brand_month_idx")]

    def __str__(self):
        who = (self.guide_id and f"guide {self.guide_id}") or f"store {self.store_id}"
        return f"{who} {self.month:%Y-%m} r{self.revision}: {self.bonus}"


class PointsAccount(models.Model):
    """A guide's points balance for one brand: the sum of its movements, never negative."""

    guide = models.ForeignKey(
        Guide, verbose_name=_("guide"), on_delete=models.PROTECT, related_name="points_accounts"
    )
    brand = models.ForeignKey(
        Brand, verbose_name=_("brand"), on_delete=models.PROTECT, related_name="+"
    )
    balance = models.IntegerField(_("balance"), default=0)

    class Meta:
        verbose_name = _("points account")
        verbose_name_plural = _("points accounts")
        ordering = ["brand", "-balance", "guide"]
        constraints = [
            models.UniqueConstraint(fields=["guide", "brand"], name="points_account_once"),
            models.CheckConstraint(
                condition=Q(balance__gte=0),
                name="points_balance_not_negative",
                violation_error_message=_("The points balance cannot go below zero."),
            ),
        ]

    def __str__(self):
        return f"{self.guide_id}/{self.brand_id}: {self.balance}"


class PointsMovement(models.Model):
    """One append-only line of the points ledger, with who moved the points and why."""

    class Kind(models.TextChoices):
        SALES = "sales", _("Net sales")
        MEMBERS = "members", _("Members bound")
        FOLLOW_UPS = "follow_ups", _("Follow-ups done on time")
        REDEMPTION = "redemption", _("Redemption")
        EXPIRED = "expired", _("Expired")

    class Reward(models.TextChoices):
        GIFT = "gift", _("Gift")
        CASH = "cash", _("Cash")
        LEAVE = "leave", _("Paid leave")
        OTHER = "other", _("Other")

    account = models.ForeignKey(
        PointsAccount, verbose_name=_("account"), on_delete=models.PROTECT, related_name="movements"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    points = models.IntegerField(_("points"))
    month = models.DateField(_("month"), null=True, blank=True, help_text=MONTH_HELP)
    reward = models.CharField(_("reward"), max_length=8, choices=Reward.choices, blank=True)
    reason = models.CharField(_("reason"), max_length=200)
    reference = models.CharField(
        _("reference"), max_length=100, unique=True, help_text=_("Written once per reference.")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty: the month close."),
    )
    created_at = models.DateTimeField(_("written at"))

    class Meta:
        verbose_name = _("points movement")
        verbose_name_plural = _("points movements")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(points=0), name="points_movement_not_zero"),
            models.CheckConstraint(condition=~Q(reason=""), name="points_movement_has_reason"),
            models.CheckConstraint(
                condition=~Q(kind="redemption")
                | Q(points__lt=0, actor__isnull=False) & ~Q(reward=""),
                name="points_redemption_by_someone",
            ),
            # An expiry takes points for one earning month, once (its reference
            # is unique too), and only takes.
            models.CheckConstraint(
                condition=~Q(kind="expired") | Q(points__lt=0, month__isnull=False),
                name="points_expiry_takes_for_a_month",
            ),
            models.UniqueConstraint(
                fields=["account", "month"],
                condition=Q(kind="expired"),
                name="points_expire_once_per_account_month",
            ),
        ]
        # The month close adds a run's movements (stamped with the run's time) to the balances.
        indexes = [models.Index(fields=["created_at"], name="points_movement_run_idx")]

    def __str__(self):
        return f"{self.account_id} {self.kind} {self.points:+d}"
