"""The commission ledger: plans and terms, orders and refunds, entries and settlements."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q, Value
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from apps.core.money import HALF_CENT, MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
from apps.guides.models import Guide
from apps.stores.models import Brand, Store

# Order and refund numbers travel as a path segment of the refunds URL
# (``/orders/<order_no>/refunds/``): letters, digits and the characters a path
# segment carries as they are (RFC 3986), never "/", "%", "?", "#", spaces, or
# a bare "." or "..", which a client would resolve away.
document_number_validator = RegexValidator(
    r"^(?!\.{1,2}$)[A-Za-z0-9._~!$&'()*+,;=:@-]+$",
    _(
        "Use letters, digits and . _ ~ - : @ ! $ & ' ( ) * + , ; = only: the number is part "
        "of a URL path."
    ),
)

# A shopper who joins through a guide's QR code while paying: an order paid up
# to this many minutes before the binding still credits that guide.
DEFAULT_TILL_GRACE_MINUTES = 30
MAX_TILL_GRACE_MINUTES = 24 * 60

# Single amounts are capped so that the integer-cent arithmetic of the bulk
# SQL (cents × cents) fits in 64 bits.
ORDER_AMOUNT_MAX_DIGITS = 9  # at most 9,999,999.99 per order
RATE_MAX_DIGITS = 5
RATE_DECIMAL_PLACES = 2


def money_field(verbose_name, **kwargs) -> models.DecimalField:
    return models.DecimalField(
        verbose_name, max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, **kwargs
    )


def rate_field(verbose_name, **kwargs) -> models.DecimalField:
    return models.DecimalField(
        verbose_name, max_digits=RATE_MAX_DIGITS, decimal_places=RATE_DECIMAL_PLACES, **kwargs
    )


class SettlementMode(models.TextChoices):
    T0 = "T0", _("T+0: at once")
    T1 = "T1", _("T+1: next day")
    TN = "TN", _("T+N: after a hold")
    MONTHLY = "MONTHLY", _("Monthly (centralised collection)")


class Beneficiary(models.TextChoices):
    GUIDE = "guide", _("Guide")
    STORE = "store", _("Store")


class BrandCommissionPolicy(models.Model):
    """How a brand attributes orders to guides."""

    class AttributionPolicy(models.TextChoices):
        ORDER_GUIDE_FIRST = "order_guide_first", _("Order's guide first")
        BOUND_GUIDE_FIRST = "bound_guide_first", _("Member's bound guide first")

    brand = models.OneToOneField(
        Brand, verbose_name=_("brand"), on_delete=models.CASCADE, related_name="commission_policy"
    )
    binding_days = models.PositiveIntegerField(
        _("binding window (days)"),
        null=True,
        blank=True,
        help_text=_("How long a member's bound guide earns on their orders. Empty: for ever."),
    )
    attribution_policy = models.CharField(
        _("attribution policy"),
        max_length=24,
        choices=AttributionPolicy.choices,
        default=AttributionPolicy.ORDER_GUIDE_FIRST,
    )
    till_grace_minutes = models.PositiveIntegerField(
        _("till grace (minutes)"),
        default=DEFAULT_TILL_GRACE_MINUTES,
        validators=[MaxValueValidator(MAX_TILL_GRACE_MINUTES)],
        help_text=_(
            "A shopper who joins through a guide's QR code while paying: an order paid up "
            "to this many minutes before the binding still credits that guide."
        ),
    )
    history = HistoricalRecords(verbose_name=_("brand commission policy history"))

    class Meta:
        verbose_name = _("brand commission policy")
        verbose_name_plural = _("brand commission policies")
        constraints = [
            models.CheckConstraint(
                condition=Q(till_grace_minutes__lte=MAX_TILL_GRACE_MINUTES),
                name="policy_till_grace_within_a_day",
            ),
        ]

    def __str__(self):
        return f"{self.brand.code}: {self.attribution_policy}"


class SettlementTerms(models.Model):
    """How often a brand settles with a store; the row without a store is the brand default."""

    brand = models.ForeignKey(
        Brand, verbose_name=_("brand"), on_delete=models.CASCADE, related_name="settlement_terms"
    )
    store = models.ForeignKey(
        Store,
        verbose_name=_("store"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="settlement_terms",
        help_text=_("Empty: the brand's default for every store."),
    )
    mode = models.CharField(_("mode"), max_length=8, choices=SettlementMode.choices)
    hold_days = models.PositiveSmallIntegerField(
        _("hold (days)"), default=1, help_text=_("Days after the business date; T+N only.")
    )
    history = HistoricalRecords(verbose_name=_("settlement terms history"))

    class Meta:
        verbose_name = _("settlement terms")
        verbose_name_plural = _("settlement terms")
        constraints = [
            models.UniqueConstraint(
                fields=["brand"], condition=Q(store__isnull=True), name="terms_one_brand_default"
            ),
            models.UniqueConstraint(fields=["brand", "store"], name="terms_one_per_store"),
            models.CheckConstraint(
                condition=Q(mode="T0", hold_days=0)
                | Q(mode="T1", hold_days=1)
                | Q(mode="TN", hold_days__gte=1)
                | Q(mode="MONTHLY", hold_days=0),
                name="terms_hold_matches_mode",
            ),
        ]

    def __str__(self):
        where = self.store.code if self.store_id else _("default")
        return f"{self.brand.code} / {where}: {self.mode}"


class CommissionPlan(models.Model):
    """Rates a brand pays; the most specific plan valid on the business date wins."""

    class Specificity(models.IntegerChoices):
        BRAND = 1, _("Brand")
        CATEGORY = 2, _("Category")
        KIND = 3, _("Store kind")
        KIND_CATEGORY = 4, _("Store kind + category")
        STORE = 5, _("Store")
        STORE_CATEGORY = 6, _("Store + category")

    brand = models.ForeignKey(
        Brand, verbose_name=_("brand"), on_delete=models.PROTECT, related_name="commission_plans"
    )
    store_kind = models.CharField(
        _("store kind"), max_length=16, choices=Store.Kind.choices, blank=True
    )
    store = models.ForeignKey(
        Store,
        verbose_name=_("store"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="commission_plans",
    )
    category = models.CharField(_("category"), max_length=64, blank=True)
    guide_rate = rate_field(_("guide rate (%)"))
    store_rate = rate_field(_("store rate (%)"))
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(
        _("valid to"), null=True, blank=True, help_text=_("Inclusive. Empty: open-ended.")
    )
    specificity = models.PositiveSmallIntegerField(
        _("specificity"), choices=Specificity.choices, editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords(verbose_name=_("commission plan history"))

    class Meta:
        verbose_name = _("commission plan")
        verbose_name_plural = _("commission plans")
        ordering = ["brand", "-specificity", "valid_from"]
        indexes = [models.Index(fields=["brand", "specificity"], name="plan_brand_spec_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(guide_rate__gte=0, guide_rate__lte=100)
                & Q(store_rate__gte=0, store_rate__lte=100),
                name="plan_rates_are_percentages",
            ),
            # Rates have two decimals, so a tolerance of half a hundredth
            # means at most 100 % on PostgreSQL and survives SQLite's floats.
            models.CheckConstraint(
                condition=Q(guide_rate__lte=Value(Decimal("100.005")) - F("store_rate")),
                name="plan_rates_within_the_sale",
                violation_error_message=_(
                    "The guide rate and the store rate together must not exceed 100 %."
                ),
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="plan_valid_to_after_from",
            ),
            models.CheckConstraint(
                condition=Q(store__isnull=True) | Q(store_kind=""), name="plan_store_or_kind"
            ),
            models.CheckConstraint(
                condition=Q(specificity=6, store__isnull=False) & ~Q(category="")
                | Q(specificity=5, store__isnull=False, category="")
                | Q(specificity=4, store__isnull=True) & ~Q(store_kind="") & ~Q(category="")
                | Q(specificity=3, store__isnull=True, category="") & ~Q(store_kind="")
                | Q(specificity=2, store__isnull=True, store_kind="") & ~Q(category="")
                | Q(specificity=1, store__isnull=True, store_kind="", category=""),
                name="plan_specificity_matches_scope",
            ),
        ]

    def __str__(self):
        scope = self.store.code if self.store_id else (self.store_kind or "*")
        return f"{self.brand.code} {scope}/{self.category or '*'} from {self.valid_from}"


class AttributionReason(models.TextChoices):
    """Which guide earns on an order and why, in the order API's words.

    The reasons without a guide start with ``none``, except
    ``pending_membership``: the member's binding is still being made, and
    the order is attributed again when it lands.
    """

    ORDER_GUIDE = "order_guide", _("Guide named on the order")
    BOUND_GUIDE = "bound_guide", _("Member's bound guide")
    BOUND_AT_TILL = "bound_at_till", _("Guide who signed the member up at the till")
    PENDING_MEMBERSHIP = "pending_membership", _("Waiting for the member's binding")
    NONE_NO_MEMBERSHIP = "none_no_membership", _("No guide: not a member of the brand")
    NONE_PAID_BEFORE_BINDING = (
        "none_paid_before_binding",
        _("No guide: paid before the member was bound"),
    )
    NONE_BINDING_EXPIRED = "none_binding_expired", _("No guide: the binding window is over")
    NONE_NO_BOUND_GUIDE = "none_no_bound_guide", _("No guide: the member has no guide")


# Reasons of an order that credits no guide.
ATTRIBUTION_WITHOUT_GUIDE = [
    reason for reason in AttributionReason.values if reason.startswith("none")
] + [AttributionReason.PENDING_MEMBERSHIP.value]
# Reasons a member's binding landing later may change: the membership was
# still pending, or not there yet when the order arrived (it was paid at the
# till a moment before the sign-up reached the system).
ATTRIBUTION_REFRESHABLE = [
    AttributionReason.PENDING_MEMBERSHIP.value,
    AttributionReason.NONE_NO_MEMBERSHIP.value,
]


class Order(models.Model):
    AttributionReason = AttributionReason

    order_no = models.CharField(
        _("order no."), max_length=64, unique=True, validators=[document_number_validator]
    )
    brand = models.ForeignKey(
        Brand, verbose_name=_("brand"), on_delete=models.PROTECT, related_name="orders"
    )
    store = models.ForeignKey(
        Store, verbose_name=_("store"), on_delete=models.PROTECT, related_name="orders"
    )
    guide = models.ForeignKey(
        Guide,
        verbose_name=_("guide on the order"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    member_phone = models.CharField(_("member phone"), max_length=11, blank=True)
    amount = money_field(_("amount"))
    refunded_amount = money_field(_("refunded"), default=0)
    paid_at = models.DateTimeField(_("paid at"))
    business_date = models.DateField(_("business date"), db_index=True)
    has_lines = models.BooleanField(_("has lines"), default=False)
    attributed_guide = models.ForeignKey(
        Guide,
        verbose_name=_("attributed guide"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="attributed_orders",
    )
    attribution_reason = models.CharField(
        _("attribution"), max_length=32, choices=AttributionReason.choices
    )
    request_hash = models.CharField(_("request fingerprint"), max_length=64, editable=False)
    created_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-paid_at", "-pk"]
        indexes = [
            # A member's purchases of a brand (profile pages, follow-ups);
            # orders without a member stay out of it.
            models.Index(
                fields=["member_phone", "brand", "business_date"],
                condition=~Q(member_phone=""),
                name="order_member_idx",
            ),
            # The orders a member's binding may still credit to a guide: found
            # by the member's phone when the binding lands.
            models.Index(
                fields=["member_phone", "brand"],
                condition=Q(attribution_reason__in=ATTRIBUTION_REFRESHABLE) & ~Q(member_phone=""),
                name="order_attribution_open_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="order_amount_positive"),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0, refunded_amount__lte=F("amount")),
                name="order_refunds_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(
                    attribution_reason__in=ATTRIBUTION_WITHOUT_GUIDE,
                    attributed_guide__isnull=True,
                )
                | (
                    ~Q(attribution_reason__in=ATTRIBUTION_WITHOUT_GUIDE)
                    & Q(attributed_guide__isnull=False)
                ),
                name="order_attribution_has_reason",
            ),
        ]

    def __str__(self):
        return self.order_no


class OrderLine(models.Model):
    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="lines"
    )
    sku = models.CharField(_("SKU"), max_length=64)
    category = models.CharField(_("category"), max_length=64, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"))
    amount = money_field(_("amount"))

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="order_line_amount_not_negative"
            )
        ]

    def __str__(self):
        return f"{self.order_id}: {self.sku} × {self.quantity}"


class Refund(models.Model):
    refund_no = models.CharField(
        _("refund no."), max_length=64, unique=True, validators=[document_number_validator]
    )
    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="refunds"
    )
    amount = money_field(_("amount"))
    refunded_at = models.DateTimeField(_("refunded at"))
    business_date = models.DateField(_("business date"))
    request_hash = models.CharField(_("request fingerprint"), max_length=64, editable=False)
    created_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-refunded_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive")
        ]

    def __str__(self):
        return self.refund_no


class Settlement(models.Model):
    """A batch of ledger entries for one beneficiary, brand, mode and period.

    T+1, T+N and monthly settlements are opened when the first entry due in
    their period is written, and the entries are written straight into them;
    the scheduled run closes them (sums the totals, carries negative balances
    forward). So a sale day's million orders are written once and never
    rewritten to be claimed. T+0 settlements are written closed, one per order
    or refund.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Open (still collecting entries)")
        SETTLED = "settled", _("Settled")
        PAID = "paid", _("Paid")

    beneficiary = models.CharField(_("beneficiary"), max_length=8, choices=Beneficiary.choices)
    guide = models.ForeignKey(
        Guide,
        verbose_name=_("guide"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="settlements",
    )
    store = models.ForeignKey(
        Store,
        verbose_name=_("store"),
        on_delete=models.PROTECT,
        related_name="settlements",
        help_text=_("The store paid, or the store of the guide paid."),
    )
    brand = models.ForeignKey(
        Brand, verbose_name=_("brand"), on_delete=models.PROTECT, related_name="settlements"
    )
    mode = models.CharField(_("mode"), max_length=8, choices=SettlementMode.choices)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    source_ref = models.CharField(
        _("source"),
        max_length=80,
        blank=True,
        help_text=_("T+0 only: the order or refund settled at once."),
    )
    entries_total = money_field(_("entries total"), default=0)
    # Written with ``entries_total`` when the settlement closes, so lists read
    # a closed settlement's figures instead of counting its entries.
    entry_count = models.PositiveIntegerField(
        _("entry count"),
        default=0,
        db_default=0,
        help_text=_("Entries it holds; written at close."),
    )
    carried_forward = money_field(
        _("carried forward"), default=0, help_text=_("Negative balance of the previous settlement.")
    )
    total = money_field(_("total"), default=0)
    carried_from = models.OneToOneField(
        "self",
        verbose_name=_("carried from"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="carried_into",
    )
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.SETTLED
    )
    payout_ref = models.CharField(_("payout reference"), max_length=100, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    run_token = models.CharField(_("run"), max_length=32, db_index=True, editable=False)
    created_at = models.DateTimeField(_("settled at"), auto_now_add=True)
    # Settlement runs write rows in bulk SQL; the history keeps the later
    # changes (carry-forward, status and payout) with who made them and when.
    history = HistoricalRecords(verbose_name=_("settlement history"))

    class Meta:
        verbose_name = _("settlement")
        verbose_name_plural = _("settlements")
        ordering = ["-period_end", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["guide", "brand", "mode", "period_start", "period_end", "source_ref"],
                condition=Q(beneficiary="guide"),
                name="settlement_once_per_guide_period",
            ),
            models.UniqueConstraint(
                fields=["store", "brand", "mode", "period_start", "period_end", "source_ref"],
                condition=Q(beneficiary="store"),
                name="settlement_once_per_store_period",
            ),
            models.CheckConstraint(
                condition=Q(beneficiary="guide", guide__isnull=False)
                | Q(beneficiary="store", guide__isnull=True),
                name="settlement_beneficiary_matches",
            ),
            # A half-cent tolerance, because SQLite stores decimals as floats;
            # on PostgreSQL the columns are exact and this means equality.
            models.CheckConstraint(
                condition=Q(total__gte=F("entries_total") + F("carried_forward") - HALF_CENT)
                & Q(total__lte=F("entries_total") + F("carried_forward") + HALF_CENT),
                name="settlement_total_is_sum",
            ),
            models.CheckConstraint(
                condition=Q(carried_forward__lte=0), name="settlement_carry_is_negative"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "settled"])
                | (Q(status="paid") & ~Q(payout_ref="")),
                name="settlement_paid_has_ref",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="settlement_period_ordered"
            ),
        ]
        indexes = [
            # The scheduled run closes the open settlements due by its date.
            models.Index(
                fields=["mode", "period_end"],
                condition=Q(status="open"),
                name="settlement_open_due_idx",
            ),
            # The lists' newest-first page (``ORDER BY period_end DESC, id DESC``),
            # read backwards, instead of sorting every settlement in scope.
            models.Index(fields=["period_end", "id"], name="settlement_period_end_idx"),
        ]

    def __str__(self):
        who = f"guide {self.guide_id}" if self.guide_id else f"store {self.store_id}"
        return f"{who} {self.mode} {self.period_start}–{self.period_end}"


class SettlementCutoff(models.Model):
    """The last period a brand's scheduled run closed for one settlement mode.

    Entries are written into the open settlement of the first period after
    the cutoff, never into one already closed. Entry writers share-lock the
    brand's cutoff rows and the run locks them to move the cutoff, so an entry
    written during a run lands either before the close or in a later period.
    """

    brand = models.ForeignKey(
        Brand, verbose_name=_("brand"), on_delete=models.CASCADE, related_name="+"
    )
    mode = models.CharField(_("mode"), max_length=8, choices=SettlementMode.choices)
    closed_through = models.DateField(_("closed through"), null=True, blank=True)

    class Meta:
        verbose_name = _("settlement cutoff")
        verbose_name_plural = _("settlement cutoffs")
        constraints = [
            models.UniqueConstraint(fields=["brand", "mode"], name="cutoff_once_per_brand_mode")
        ]

    def __str__(self):
        return f"{self.brand_id} {self.mode} ≤ {self.closed_through}"


class CommissionAdjustment(models.Model):
    """HQ's correction of what someone earned: the one way to change the past.

    Written once, with who and why, and booked as one ledger entry of kind
    ``adjustment`` that is settled like any other by the beneficiary's terms.
    ``reference`` is the client's idempotency key: the same body again is
    answered with this row, another body is a conflict.
    """

    reference = models.CharField(
        _("reference"), max_length=64, unique=True, validators=[document_number_validator]
    )
    brand = models.ForeignKey(
        Brand, verbose_name=_("brand"), on_delete=models.PROTECT, related_name="+"
    )
    beneficiary = models.CharField(_("beneficiary"), max_length=8, choices=Beneficiary.choices)
    guide = models.ForeignKey(
        Guide,
        verbose_name=_("guide"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="commission_adjustments",
    )
    store = models.ForeignKey(
        Store,
        verbose_name=_("store"),
        on_delete=models.PROTECT,
        related_name="commission_adjustments",
        help_text=_("The store paid, or the store of the guide paid."),
    )
    order = models.ForeignKey(
        Order,
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="adjustments",
    )
    amount = money_field(_("amount"), help_text=_("Negative to take back."))
    business_date = models.DateField(_("business date"))
    reason = models.TextField(_("reason"), max_length=500)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    request_hash = models.CharField(_("request fingerprint"), max_length=64, editable=False)
    created_at = models.DateTimeField(_("written at"), auto_now_add=True)

    class Meta:
        verbose_name = _("commission adjustment")
        verbose_name_plural = _("commission adjustments")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="adjustment_amount_not_zero"),
            models.CheckConstraint(condition=~Q(reason=""), name="adjustment_has_reason"),
            models.CheckConstraint(
                condition=Q(beneficiary="guide", guide__isnull=False)
                | Q(beneficiary="store", guide__isnull=True),
                name="adjustment_beneficiary_matches",
            ),
        ]

    def __str__(self):
        return self.reference


class EntryKind(models.TextChoices):
    """What wrote a ledger entry; each kind has its source in the constraint below."""

    ORDER = "order", _("Sale")
    REFUND = "refund", _("Refund clawback")
    BOUND_GUIDE_LATE = "bound_guide_late", _("Bound guide, credited after the binding landed")
    ADJUSTMENT = "adjustment", _("Adjustment")
    BONUS = "bonus", _("Monthly bonus")


class CommissionEntry(models.Model):
    """One append-only ledger line: who earns how much from which order or refund.

    Every reference is taken from the referenced rows in the statement that
    writes the entry (order, refund, brand, store, guide, plan and open
    settlement in the ``INSERT … SELECT … JOIN``; a T+0 or late entry's
    settlement in the claim ``UPDATE … FROM``),
    and none of those rows is ever deleted: orders and refunds have no delete
    path, master data is deactivated, and PROTECT guards the ORM. The foreign
    keys therefore carry no database constraint: PostgreSQL checks each one
    row by row with a row lock at commit, which cost more than the whole
    set-based insert of a sale day (see docs/benchmarks.md).
    """

    kind = models.CharField(
        _("kind"),
        max_length=16,
        choices=EntryKind.choices,
        default=EntryKind.ORDER,
        db_default=EntryKind.ORDER,
    )
    order = models.ForeignKey(
        Order,
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="entries",
        db_index=False,  # the unique constraint below leads with the order
        db_constraint=False,
        help_text=_("Empty for an adjustment: its order, if any, is on the adjustment."),
    )
    refund = models.ForeignKey(
        Refund,
        verbose_name=_("refund"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="entries",
        db_index=False,  # the unique constraint below leads with the refund
        db_constraint=False,
    )
    adjustment = models.ForeignKey(
        CommissionAdjustment,
        verbose_name=_("adjustment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="entries",
        db_index=False,  # the unique constraint below is the index
        db_constraint=False,
    )
    # The incentives app's bonus award (a floor above) this entry books; a
    # plain id, as the commissions app does not know that model.
    bonus_award_id = models.BigIntegerField(_("bonus award"), null=True, blank=True, editable=False)
    beneficiary = models.CharField(_("beneficiary"), max_length=8, choices=Beneficiary.choices)
    guide = models.ForeignKey(
        Guide,
        verbose_name=_("guide"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="commission_entries",
        db_index=False,  # partial index below: store entries have no guide
        db_constraint=False,
    )
    store = models.ForeignKey(
        Store,
        verbose_name=_("store"),
        on_delete=models.PROTECT,
        related_name="commission_entries",
        db_constraint=False,
    )
    brand = models.ForeignKey(
        Brand,
        verbose_name=_("brand"),
        on_delete=models.PROTECT,
        related_name="commission_entries",
        db_index=False,  # filtered together with store or guide, never alone at scale
        db_constraint=False,
    )
    category = models.CharField(_("category"), max_length=64, blank=True)
    business_date = models.DateField(_("business date"))
    base_amount = money_field(_("base amount"))
    plan = models.ForeignKey(
        CommissionPlan,
        verbose_name=_("plan"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="entries",
        db_index=False,
        db_constraint=False,
    )
    rate = rate_field(_("rate (%)"))
    amount = money_field(_("amount"))
    mode = models.CharField(_("mode"), max_length=8, choices=SettlementMode.choices)
    hold_days = models.PositiveSmallIntegerField(_("hold (days)"))
    settlement = models.ForeignKey(
        Settlement,
        verbose_name=_("settlement"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="entries",
        db_constraint=False,
    )
    created_at = models.DateTimeField(_("written at"))

    class Meta:
        verbose_name = _("commission entry")
        verbose_name_plural = _("commission entries")
        ordering = ["-business_date", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "beneficiary", "category"],
                condition=Q(refund__isnull=True),
                name="entry_once_per_order",
            ),
            models.UniqueConstraint(
                fields=["refund", "beneficiary", "category"],
                condition=Q(refund__isnull=False),
                name="entry_once_per_refund",
            ),
            models.UniqueConstraint(
                fields=["adjustment"],
                condition=Q(adjustment__isnull=False),
                name="entry_once_per_adjustment",
            ),
            models.UniqueConstraint(
                fields=["bonus_award_id"],
                condition=Q(bonus_award_id__isnull=False),
                name="entry_once_per_bonus_award",
            ),
            # Each kind has its source: an order share has its order and plan,
            # a clawback its refund too, an adjustment only the adjustment
            # (so the order and refund keys above never see it).
            models.CheckConstraint(
                condition=Q(
                    kind__in=[EntryKind.ORDER, EntryKind.BOUND_GUIDE_LATE],
                    order__isnull=False,
                    refund__isnull=True,
                    adjustment__isnull=True,
                    plan__isnull=False,
                    bonus_award_id__isnull=True,
                )
                | Q(
                    kind=EntryKind.REFUND,
                    order__isnull=False,
                    refund__isnull=False,
                    adjustment__isnull=True,
                    plan__isnull=False,
                    bonus_award_id__isnull=True,
                )
                | Q(
                    kind=EntryKind.ADJUSTMENT,
                    order__isnull=True,
                    refund__isnull=True,
                    adjustment__isnull=False,
                    plan__isnull=True,
                    bonus_award_id__isnull=True,
                )
                | Q(
                    kind=EntryKind.BONUS,
                    order__isnull=True,
                    refund__isnull=True,
                    adjustment__isnull=True,
                    plan__isnull=True,
                    bonus_award_id__isnull=False,
                ),
                name="entry_kind_matches_source",
            ),
            models.CheckConstraint(
                condition=~Q(kind=EntryKind.BOUND_GUIDE_LATE) | Q(beneficiary="guide"),
                name="entry_late_is_the_guides",
            ),
            models.CheckConstraint(
                condition=Q(beneficiary="guide", guide__isnull=False)
                | Q(beneficiary="store", guide__isnull=True),
                name="entry_beneficiary_matches",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[EntryKind.ADJUSTMENT, EntryKind.BONUS])
                | Q(refund__isnull=True, amount__gte=0)
                | Q(refund__isnull=False, amount__lte=0),
                name="entry_sign_matches_source",
            ),
        ]
        indexes = [
            models.Index(
                fields=["mode", "business_date"],
                condition=Q(settlement__isnull=True),
                name="entry_unsettled_idx",
            ),
            models.Index(
                fields=["guide"], condition=Q(guide__isnull=False), name="entry_guide_idx"
            ),
            # The lists' order (Meta.ordering): a first page reads the newest
            # entries off this index, scanned backward, instead of sorting the
            # whole ledger (4.1 s → 0.16 s for HQ over 500,000 entries,
            # docs/benchmarks.md). Ascending, so that a day's new entries go
            # in at its right-hand edge (descending, every insert split pages
            # at the left and left them half empty: migration 0010).
            models.Index(fields=["business_date", "id"], name="entry_date_idx"),
        ]

    def __str__(self):
        if self.kind == EntryKind.ADJUSTMENT:
            return f"adjustment {self.adjustment_id} {self.beneficiary} {self.amount}"
        return f"{self.order_id}/{self.refund_id or '-'} {self.beneficiary} {self.amount}"
