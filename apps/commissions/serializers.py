"""API shapes of orders, refunds, plans, terms, ledger entries, settlements and the report."""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.commissions.models import (
    ORDER_AMOUNT_MAX_DIGITS,
    RATE_DECIMAL_PLACES,
    RATE_MAX_DIGITS,
    Beneficiary,
    CommissionAdjustment,
    CommissionEntry,
    CommissionPlan,
    Order,
    Settlement,
    SettlementTerms,
    document_number_validator,
)
from apps.commissions.reports import Grouping, ReportFilters
from apps.commissions.selectors import EntryStatus
from apps.core.api import ChoiceField
from apps.core.money import (
    MIN_AMOUNT,
    MONEY_DECIMAL_PLACES,
    MONEY_MAX_DIGITS,
)
from apps.core.scoping import mask_phone
from apps.guides.serializers import guide_employee_no_field
from apps.stores.models import Store
from apps.stores.serializers import brand_code_field, region_code_field, store_code_field

# The largest values the columns hold (PositiveIntegerField, PositiveSmallIntegerField):
# a larger one would fail in the database as a server error, not a field error.
QUANTITY_MAX = 2_147_483_647
HOLD_DAYS_MAX = 32_767


def amount_field(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=ORDER_AMOUNT_MAX_DIGITS,
        decimal_places=MONEY_DECIMAL_PLACES,
        min_value=MIN_AMOUNT,
        **kwargs,
    )


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 moment that must carry its UTC offset: a naive time is ambiguous."""

    def to_internal_value(self, value):
        parsed = super().to_internal_value(value)
        if isinstance(value, str) and not _has_offset(value):
            raise serializers.ValidationError(_("Give the time with its UTC offset, e.g. +08:00."))
        return parsed


def _has_offset(value: str) -> bool:
    from django.utils.dateparse import parse_datetime

    parsed = parse_datetime(value.strip())
    return parsed is not None and parsed.tzinfo is not None


class OrderLineInputSerializer(serializers.Serializer):
    sku = serializers.CharField(
        max_length=64, help_text=_("The product's SKU, as the POS knows it.")
    )
    category = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default="",
        help_text=_("Product category; commission plans may price a category apart."),
    )  # fmt: skip
    quantity = serializers.IntegerField(
        min_value=1, max_value=QUANTITY_MAX, help_text=_("Units sold, at least 1.")
    )
    amount = serializers.DecimalField(
        max_digits=ORDER_AMOUNT_MAX_DIGITS,
        decimal_places=MONEY_DECIMAL_PLACES,
        min_value=Decimal(0),
        help_text=_("The line's amount paid, CNY, a decimal string with 2 places."),
    )


def document_number_field(**kwargs) -> serializers.CharField:
    """An order, refund or adjustment number: a URL path segment (``document_number_validator``)."""
    return serializers.CharField(max_length=64, validators=[document_number_validator], **kwargs)


class OrderInputSerializer(serializers.Serializer):
    order_no = document_number_field(
        help_text=_(
            "Your order number, the idempotency key: the same body again answers 200, "
            "another body 409. Letters, digits and . _ ~ - : @ ! $ & ' ( ) * + , ; = only."
        )
    )
    brand = brand_code_field(help_text=_("Brand code."))
    store = store_code_field(help_text=_("Code of the store that sold; it carries the brand."))
    guide = guide_employee_no_field(
        required=False, allow_null=True,
        help_text=_("Employee no. of the guide who sold (or whose share link was used); "
        "they work at the store. Omit when none."),
    )  # fmt: skip
    member_phone = serializers.CharField(
        max_length=32, required=False, allow_blank=True,
        help_text=_("The member's mainland mobile number (+86, spaces and dashes allowed); "
        "ties the order to a membership for attribution. Empty for a walk-in shopper."),
    )  # fmt: skip
    amount = amount_field(help_text=_("Amount paid, CNY, a decimal string with 2 places (> 0)."))
    paid_at = AwareDateTimeField(
        help_text=_(
            "When the payment completed, ISO 8601 with its UTC offset "
            "(2026-03-10T18:30:00+08:00); at most 10 minutes ahead of the server's clock."
        )
    )
    lines = OrderLineInputSerializer(
        many=True, required=False,
        help_text=_("The order's lines; their amounts add up to the order's. Without lines the "
        "whole order is priced as one uncategorised line."),
    )  # fmt: skip


class RefundInputSerializer(serializers.Serializer):
    refund_no = document_number_field(
        help_text=_("Your refund number, the idempotency key (same body 200, another body 409).")
    )
    amount = amount_field(
        help_text=_("Amount refunded, CNY, a decimal string; refunds never exceed the order.")
    )
    refunded_at = AwareDateTimeField(
        help_text=_("When the refund was made, ISO 8601 with its UTC offset; not before the order.")
    )


class RefundBatchItemSerializer(RefundInputSerializer):
    """A refund in a batch: the single endpoint's body plus the order number its URL carries."""

    order_no = document_number_field(help_text=_("Number of the order refunded."))


class OrderSerializer(serializers.ModelSerializer):
    brand = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text=_("Brand code.")
    )
    store = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text=_("Code of the store that sold.")
    )
    guide = serializers.SlugRelatedField(
        slug_field="employee_no", read_only=True, allow_null=True,
        help_text=_("The guide named on the order, if any."),
    )  # fmt: skip
    attributed_guide = serializers.SlugRelatedField(
        slug_field="employee_no", read_only=True, allow_null=True,
        help_text=_("The guide who earns the guide's share, or null."),
    )  # fmt: skip
    attribution_note = serializers.CharField(
        source="get_attribution_reason_display",
        read_only=True,
        help_text=_(
            "attribution_reason in words. order_guide: the guide on the order; "
            "bound_guide: the member's bound guide; bound_at_till: the guide the member signed "
            "up with at the till, shortly after paying; pending_membership: no guide yet, the "
            "member's binding is being made and the order is attributed again when it lands; "
            "none_no_membership, none_paid_before_binding, none_binding_expired, "
            "none_no_bound_guide: no guide earns (the store still does)."
        ),
    )

    class Meta:
        model = Order
        fields = [
            "order_no", "brand", "store", "guide", "amount", "refunded_amount", "paid_at",
            "business_date", "attributed_guide", "attribution_reason", "attribution_note",
            "created_at",
        ]  # fmt: skip
        extra_kwargs = {
            "order_no": {"help_text": _("The sender's order number (unique).")},
            "amount": {"help_text": _("Amount paid, CNY, a decimal string with 2 places.")},
            "refunded_amount": {
                "help_text": _("Sum of its refunds so far, CNY, a decimal string.")
            },
            "paid_at": {"help_text": _("When the payment completed (ISO 8601, UTC offset).")},
            "business_date": {
                "help_text": _(
                    "Local calendar date of paid_at in the server's time zone "
                    "(Asia/Shanghai by default): the day its entries are dated."
                )
            },
            "attribution_reason": {"help_text": _("Why attributed_guide earns (or nobody does).")},
            "created_at": {"help_text": _("When the server received the order.")},
        }


class OrderLineSerializer(serializers.Serializer):
    sku = serializers.CharField(help_text=_("The line's SKU as the sender gave it."))
    category = serializers.CharField(help_text=_("Product category; plans may price it apart."))
    quantity = serializers.IntegerField(help_text=_("Units sold."))
    amount = serializers.DecimalField(
        max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES,
        help_text=_("The line's amount in CNY, a decimal string with 2 places."),
    )  # fmt: skip


class OrderListSerializer(OrderSerializer):
    member_phone = serializers.SerializerMethodField(
        help_text=_("The member's mobile number; masked as 138****5678 unless the caller is HQ.")
    )

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "member_phone"]

    def get_member_phone(self, order) -> str:
        phone = order.member_phone
        return mask_phone(phone) if phone and self.context.get("mask_phones", True) else phone


class RefundSerializer(serializers.Serializer):
    refund_no = serializers.CharField(help_text=_("The sender's refund number (unique)."))
    order_no = serializers.CharField(source="order.order_no", help_text=_("The order refunded."))
    amount = serializers.DecimalField(
        max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES,
        help_text=_("Amount refunded, CNY, a decimal string with 2 places."),
    )  # fmt: skip
    refunded_at = serializers.DateTimeField(help_text=_("When the refund was made (ISO 8601)."))
    business_date = serializers.DateField(
        help_text=_("Local calendar date of refunded_at: the day its clawback entries are dated.")
    )


def rate_input_field(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=RATE_MAX_DIGITS, decimal_places=RATE_DECIMAL_PLACES, min_value=Decimal(0),
        max_value=Decimal(100), **kwargs,
    )  # fmt: skip


class CommissionPlanSerializer(serializers.ModelSerializer):
    brand = brand_code_field()
    store = store_code_field(required=False, allow_null=True)
    # A plain string rather than a choice field: the store kind enum is
    # already named by the stores API schema.
    store_kind = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text=_("Stores of this kind: direct, franchise or distributor (empty: any)."),
    )
    guide_rate = rate_input_field(
        help_text=_("Percent; guide and store rates add up to 100 at most.")
    )
    store_rate = rate_input_field(
        help_text=_("Percent; guide and store rates add up to 100 at most.")
    )

    def validate_store_kind(self, value):
        if value and value not in Store.Kind.values:
            raise serializers.ValidationError(
                _("'%(value)s' is not a store kind. Choose from: %(choices)s.")
                % {"value": value, "choices": ", ".join(Store.Kind.values)}
            )
        return value

    class Meta:
        model = CommissionPlan
        fields = [
            "id", "brand", "store_kind", "store", "category", "guide_rate", "store_rate",
            "valid_from", "valid_to", "specificity",
        ]  # fmt: skip
        read_only_fields = ["id", "specificity"]
        extra_kwargs = {
            "category": {"help_text": _("Product category the plan prices (empty: every "
                                         "category).")},
            "valid_from": {"help_text": _("First day the plan prices sales, a business date "
                                           "(server's time zone, Asia/Shanghai by default).")},
            "valid_to": {"help_text": _("Last day, inclusive (null: open-ended).")},
            "specificity": {"help_text": _("How narrow the plan is, 1 (brand) to 6 (store and "
                                            "category): the narrowest plan valid on the day "
                                            "prices a line.")},
        }  # fmt: skip


class CommissionAdjustmentInputSerializer(serializers.Serializer):
    reference = document_number_field(
        help_text=_(
            "Your key for this adjustment: the same body again answers 200, another body 409."
        )
    )
    brand = brand_code_field(help_text=_("Brand code."))
    beneficiary = ChoiceField(
        choices=Beneficiary.choices, help_text=_("Who is paid: guide or store.")
    )
    guide = guide_employee_no_field(
        required=False,
        allow_null=True,
        help_text=_("The guide paid (beneficiary guide)."),
    )
    store = store_code_field(
        required=False,
        allow_null=True,
        help_text=_("The store paid (beneficiary store)."),
    )
    order = serializers.SlugRelatedField(
        slug_field="order_no", queryset=Order.objects.all(), required=False, allow_null=True,
        help_text=_("The order it corrects, if any."),
    )  # fmt: skip
    amount = serializers.DecimalField(
        max_digits=ORDER_AMOUNT_MAX_DIGITS,
        decimal_places=MONEY_DECIMAL_PLACES,
        help_text=_("Signed: negative takes back."),
    )
    reason = serializers.CharField(
        max_length=500, help_text=_("Why, for the guide and the auditor to read.")
    )


class CommissionAdjustmentSerializer(serializers.ModelSerializer):
    brand = serializers.CharField(source="brand.code", help_text=_("Brand code."))
    guide = serializers.CharField(
        source="guide.employee_no", default=None, allow_null=True,
        help_text=_("Employee no. of the guide paid (null: a store's adjustment)."),
    )  # fmt: skip
    store = serializers.CharField(source="store.code", help_text=_("Code of the store."))
    order = serializers.CharField(
        source="order.order_no", default=None, allow_null=True,
        help_text=_("Number of the order it corrects (null: none)."),
    )  # fmt: skip
    actor = serializers.CharField(
        source="actor.username", help_text=_("Login of the HQ user who made it.")
    )
    entry = serializers.SerializerMethodField(
        help_text=_("Id of the ledger entry it wrote (kind adjustment).")
    )

    class Meta:
        model = CommissionAdjustment
        fields = [
            "id", "reference", "brand", "beneficiary", "guide", "store", "order", "amount",
            "business_date", "reason", "actor", "created_at", "entry",
        ]  # fmt: skip
        extra_kwargs = {
            "reference": {"help_text": _("The caller's key for it (idempotent).")},
            "beneficiary": {"help_text": _("Who is paid: guide or store.")},
            "amount": {"help_text": _("CNY, a signed decimal string with 2 places.")},
            "business_date": {"help_text": _("The day its entry is dated, in the server's "
                                              "time zone (Asia/Shanghai by default).")},
            "reason": {"help_text": _("Why it was made.")},
        }  # fmt: skip

    def get_entry(self, adjustment) -> int | None:
        entries = list(adjustment.entries.all())
        return entries[0].pk if entries else None


class PlanSuccessorSerializer(serializers.Serializer):
    valid_from = serializers.DateField(
        help_text=_("First day of the successor; the plan ends the day before.")
    )
    valid_to = serializers.DateField(
        required=False, allow_null=True, default=None,
        help_text=_("Last day of the successor, inclusive (null: open-ended)."),
    )  # fmt: skip
    guide_rate = rate_input_field(help_text=_("The successor's guide rate, percent."))
    store_rate = rate_input_field(help_text=_("The successor's store rate, percent."))


class SettlementTermsSerializer(serializers.ModelSerializer):
    brand = brand_code_field(help_text=_("Brand code."))
    store = store_code_field(
        required=False,
        allow_null=True,
        help_text=_("Store code (null: the brand's default terms)."),
    )
    hold_days = serializers.IntegerField(
        min_value=0,
        max_value=HOLD_DAYS_MAX,
        required=False,
        allow_null=True,
        help_text=_("Days entries are held before settling, for TN (null otherwise)."),
    )

    class Meta:
        model = SettlementTerms
        fields = ["id", "brand", "store", "mode", "hold_days"]
        extra_kwargs = {
            "mode": {
                "help_text": _(
                    "T0 (at once), T1 (next day), TN (after hold_days) or MONTHLY (by month)."
                )
            }
        }
        read_only_fields = ["id"]
        validators = []  # the service upserts: one row per brand and store


class CommissionEntrySerializer(serializers.ModelSerializer):
    order_no = serializers.SerializerMethodField(
        help_text=_("The order it comes from (an adjustment's: the order it corrects, if any).")
    )
    refund_no = serializers.CharField(
        source="refund.refund_no", default=None, allow_null=True,
        help_text=_("Refund number, for a clawback (null otherwise)."),
    )  # fmt: skip
    adjustment = serializers.CharField(
        source="adjustment.reference", default=None, allow_null=True,
        help_text=_("The adjustment's reference, for kind adjustment (null otherwise)."),
    )  # fmt: skip
    adjustment_reason = serializers.CharField(
        source="adjustment.reason", default=None, allow_null=True,
        help_text=_("The adjustment's reason (null otherwise)."),
    )  # fmt: skip
    brand = serializers.CharField(source="brand.code", help_text=_("Brand code."))
    store = serializers.CharField(
        source="store.code", help_text=_("Code of the store the sale belongs to.")
    )
    guide = serializers.CharField(
        source="guide.employee_no", default=None, allow_null=True,
        help_text=_("Employee no. of the guide paid (null: the store's entry)."),
    )  # fmt: skip

    class Meta:
        model = CommissionEntry
        fields = [
            "id", "kind", "order_no", "refund_no", "adjustment", "adjustment_reason",
            "beneficiary", "guide", "store", "brand", "category", "business_date", "base_amount",
            "plan", "rate", "amount", "mode", "settlement", "created_at",
        ]  # fmt: skip
        extra_kwargs = {
            "kind": {"help_text": _("order (a sale), refund (a clawback, negative), "
                                     "bound_guide_late or adjustment.")},
            "beneficiary": {"help_text": _("Who earns it: guide or store.")},
            "category": {"help_text": _("Product category of the line priced.")},
            "business_date": {"help_text": _("Local calendar date (server's time zone, "
                                              "Asia/Shanghai by default) of the payment, refund "
                                              "or adjustment.")},
            "base_amount": {"help_text": _("What the rate applies to, CNY decimal string.")},
            "plan": {"help_text": _("Id of the commission plan that priced it (null: "
                                     "adjustment).")},
            "rate": {"help_text": _("Percent applied, a decimal string.")},
            "amount": {"help_text": _("Commission, CNY, a signed decimal string with 2 places, "
                                       "rounded half up per entry.")},
            "mode": {"help_text": _("The settlement terms it is settled by: T0, T1, TN or "
                                     "MONTHLY.")},
            "settlement": {"help_text": _("Id of the settlement holding it (null: not yet).")},
        }  # fmt: skip

    def get_order_no(self, entry) -> str | None:
        """The order the entry comes from (an adjustment's: the order it corrects, if any)."""
        order = entry.adjustment.order if entry.adjustment_id else entry.order
        return order.order_no if order is not None else None


class SettlementSerializer(serializers.ModelSerializer):
    brand = serializers.CharField(source="brand.code", help_text=_("Brand code."))
    store = serializers.CharField(source="store.code", help_text=_("Store code."))
    guide = serializers.CharField(
        source="guide.employee_no", default=None, allow_null=True,
        help_text=_("Employee no. of the guide paid (null: the store's settlement)."),
    )  # fmt: skip
    entry_count = serializers.IntegerField(
        source="held_count",
        read_only=True,
        help_text=_("Ledger entries in the settlement (so far, while open)."),
    )
    running_total = serializers.DecimalField(
        max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, read_only=True,
        help_text=_("Sum of its entries so far in CNY, a decimal string; while the settlement is "
        "open, total stays 0.00 and this is what it holds. Once closed, equal to entries_total."),
    )  # fmt: skip

    class Meta:
        model = Settlement
        fields = [
            "id", "beneficiary", "guide", "store", "brand", "mode", "period_start", "period_end",
            "source_ref", "entry_count", "running_total", "entries_total", "carried_forward",
            "total", "status", "payout_ref", "paid_at", "created_at",
        ]  # fmt: skip
        read_only_fields = fields
        extra_kwargs = {
            "beneficiary": {"help_text": _("Who is paid: guide or store.")},
            "mode": {"help_text": _("Settlement terms: T0, T1, TN or MONTHLY.")},
            "period_start": {"help_text": _("First business date of the period (server's time "
                                             "zone, Asia/Shanghai by default).")},
            "period_end": {"help_text": _("Last business date of the period, inclusive.")},
            "source_ref": {"help_text": _("For T0: the order or refund that closed it.")},
            "entries_total": {"help_text": _("Sum of its entries, CNY decimal string, written "
                                              "when it closes.")},
            "carried_forward": {"help_text": _("A negative balance carried from the previous "
                                                "settlement, CNY.")},
            "total": {"help_text": _("What is paid, CNY decimal string (0.00 while open).")},
            "status": {"help_text": _("open (collecting entries), settled or paid.")},
            "payout_ref": {"help_text": _("HQ's payout reference (empty until paid).")},
            "paid_at": {"help_text": _("When HQ marked it paid (null: not yet).")},
        }  # fmt: skip


class MarkPaidSerializer(serializers.Serializer):
    payout_ref = serializers.CharField(
        max_length=100,
        help_text=_("HQ's payout reference, e.g. a bank transfer number; the same again is a "
                     "no-op."),
    )  # fmt: skip


class CommissionReportQuerySerializer(serializers.Serializer):
    """The report's filters; codes become rows, so an unknown code is a 400 naming the field."""

    date_from = serializers.DateField(
        required=False, help_text=_("First business date, inclusive.")
    )
    date_to = serializers.DateField(required=False, help_text=_("Last business date, inclusive."))
    brand = brand_code_field(required=False, help_text=_("Brand code."))
    region = region_code_field(
        required=False,
        help_text=_("Region code; its sub-regions are included."),
    )
    store = store_code_field(required=False, help_text=_("Store code."))
    guide = guide_employee_no_field(required=False, help_text=_("Guide's employee no."))
    status = ChoiceField(
        choices=EntryStatus.values,
        required=False,
        help_text=_("Entries not yet settled, settled, or paid out (empty: all)."),
    )
    group_by = ChoiceField(
        choices=[choice for choice, _label in Grouping.CHOICES],
        default=Grouping.STORE,
        help_text=_("What each row sums: region, store (the default), guide, brand, day or month."),
    )
    export = ChoiceField(
        choices=["csv", "xlsx"],
        required=False,
        help_text=_("csv or xlsx: answer a file to download instead of JSON."),
    )
    leaderboard_month = serializers.DateField(
        required=False,
        input_formats=["%Y-%m"],
        help_text=_("YYYY-MM: add the incentives leaderboard of this month to the answer."),
    )
    leaderboard_by = ChoiceField(
        choices=["store", "region", "brand"],
        default="store",
        help_text=_("What the leaderboard ranks (with leaderboard_month)."),
    )

    def validate(self, attrs):
        date_from, date_to = attrs.get("date_from"), attrs.get("date_to")
        if date_from and date_to and date_from > date_to:
            raise serializers.ValidationError({"date_to": _("date_to is before date_from.")})
        return attrs

    def report_filters(self) -> ReportFilters:
        data = self.validated_data
        return ReportFilters(
            group_by=data["group_by"],
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            brand_id=data["brand"].pk if data.get("brand") else None,
            region_id=data["region"].pk if data.get("region") else None,
            store_id=data["store"].pk if data.get("store") else None,
            guide_id=data["guide"].pk if data.get("guide") else None,
            status=data.get("status"),
            leaderboard_month=data.get("leaderboard_month"),
            leaderboard_by=data["leaderboard_by"],
        )


def _money_sum_field(**kwargs) -> serializers.DecimalField:
    # No cap on the digits of a sum: DRF fails the whole answer (a 500) on a
    # value wider than its field, and a sum of entries that each fit their
    # column can be any width.
    return serializers.DecimalField(max_digits=None, decimal_places=MONEY_DECIMAL_PLACES, **kwargs)


class CommissionReportTotalsSerializer(serializers.Serializer):
    entries = serializers.IntegerField(help_text=_("Ledger entries summed."))
    sales = _money_sum_field(
        help_text=_(
            "Net sales (refunds subtracted), each sale counted once, CNY decimal string. "
            "Grouped by guide: the sales credited to the guide; the stores' shares row (empty key) "
            "holds every sale, and only it counts towards the total."
        )
    )
    store_commission = _money_sum_field(help_text=_("Commission earned by stores, CNY."))
    guide_commission = _money_sum_field(help_text=_("Commission earned by guides, CNY."))
    amount = _money_sum_field(help_text=_("All commission, adjustments included, CNY."))
    bonus = _money_sum_field(
        help_text=_("Month-close bonuses and their revisions (part of amount), CNY.")
    )
    points = serializers.IntegerField(
        default=0,
        help_text=_(
            "Points guides earned for the months the dates touch (sales, members bound, "
            "follow-ups; not redemptions or expiry). Grouped by day, on the month's first day."
        ),
    )


class CommissionReportRowSerializer(CommissionReportTotalsSerializer):
    key = serializers.CharField(
        help_text=_(
            "The group's code (region, store, brand), employee no. (guide), YYYY-MM-DD "
            "(day) or YYYY-MM (month); empty for the stores' shares row when grouped by guide."
        )
    )
    label = serializers.CharField(help_text=_("The group's name, in the caller's language."))


class LeaderboardRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField(help_text=_("1 for the highest achievement."))
    key = serializers.CharField(help_text=_("The store's, region's or brand's code."))
    label = serializers.CharField(help_text=_("Its name."))
    guides = serializers.IntegerField(help_text=_("Guides with a target for the month."))
    target = _money_sum_field(help_text=_("Their targets summed, CNY."))
    net_sales = _money_sum_field(help_text=_("Their net sales of the month, CNY."))
    achievement = serializers.DecimalField(
        max_digits=None, decimal_places=2, allow_null=True,
        help_text=_("Net sales ÷ target, percent; null without a target."),
    )  # fmt: skip
    bonus = _money_sum_field(
        help_text=_("Bonus the close wrote (latest revision), or projected before the close, CNY.")
    )
    points = serializers.IntegerField(help_text=_("Points earned for the month."))


class LeaderboardSerializer(serializers.Serializer):
    month = serializers.DateField(help_text=_("The month's first day."))
    group_by = serializers.CharField(help_text=_("store, region or brand."))
    rows = LeaderboardRowSerializer(many=True, help_text=_("Best achievement first."))


class CommissionReportSerializer(serializers.Serializer):
    group_by = serializers.CharField(help_text=_("What the rows group by."))
    rows = CommissionReportRowSerializer(many=True, help_text=_("One row per group, in order."))
    totals = CommissionReportTotalsSerializer(help_text=_("The sums over every row."))
    leaderboard = LeaderboardSerializer(
        required=False, help_text=_("With leaderboard_month: guides' targets ranked by group.")
    )


class OrderDetailSerializer(OrderListSerializer):
    """An order with its lines, refunds and the ledger entries the caller may read."""

    lines = OrderLineSerializer(many=True, read_only=True, help_text=_("The order's lines."))
    refunds = RefundSerializer(many=True, read_only=True, help_text=_("Its refunds, newest first."))
    entries = CommissionEntrySerializer(
        source="scoped_entries", many=True, read_only=True,
        help_text=_("The ledger entries of the order and its refunds, as far as the caller's "
        "scope reaches (a guide: their own)."),
    )  # fmt: skip

    class Meta(OrderListSerializer.Meta):
        fields = [*OrderListSerializer.Meta.fields, "lines", "refunds", "entries"]
