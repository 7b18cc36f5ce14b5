"""API shapes of orders, refunds, plans, terms, ledger entries, settlements and the report."""

from decimal import Decimal

from rest_framework import serializers

from apps.commissions.models import (
    ORDER_AMOUNT_MAX_DIGITS,
    RATE_DECIMAL_PLACES,
    RATE_MAX_DIGITS,
    CommissionEntry,
    CommissionPlan,
    Order,
    Settlement,
    SettlementTerms,
)
from apps.commissions.reports import Grouping, ReportFilters
from apps.commissions.selectors import EntryStatus
from apps.core.money import (
    MIN_AMOUNT,
    MONEY_DECIMAL_PLACES,
    MONEY_MAX_DIGITS,
)
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
            raise serializers.ValidationError("Give the time with its UTC offset, e.g. +08:00.")
        return parsed


def _has_offset(value: str) -> bool:
    from django.utils.dateparse import parse_datetime

    parsed = parse_datetime(value.strip())
    return parsed is not None and parsed.tzinfo is not None


class OrderLineInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    category = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    quantity = serializers.IntegerField(min_value=1, max_value=QUANTITY_MAX)
    amount = serializers.DecimalField(
        max_digits=ORDER_AMOUNT_MAX_DIGITS,
        decimal_places=MONEY_DECIMAL_PLACES,
        min_value=Decimal(0),
    )


class OrderInputSerializer(serializers.Serializer):
    order_no = serializers.CharField(max_length=64)
    brand = brand_code_field()
    store = store_code_field()
    guide = guide_employee_no_field(required=False, allow_null=True)
    member_phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    amount = amount_field()
    paid_at = AwareDateTimeField()
    lines = OrderLineInputSerializer(many=True, required=False)


class RefundInputSerializer(serializers.Serializer):
    refund_no = serializers.CharField(max_length=64)
    amount = amount_field()
    refunded_at = AwareDateTimeField()


class OrderSerializer(serializers.ModelSerializer):
    brand = serializers.SlugRelatedField(slug_field="code", read_only=True)
    store = serializers.SlugRelatedField(slug_field="code", read_only=True)
    guide = serializers.SlugRelatedField(slug_field="employee_no", read_only=True, allow_null=True)
    attributed_guide = serializers.SlugRelatedField(
        slug_field="employee_no", read_only=True, allow_null=True
    )

    class Meta:
        model = Order
        fields = [
            "order_no", "brand", "store", "guide", "amount", "refunded_amount", "paid_at",
            "business_date", "attributed_guide", "attribution_reason", "created_at",
        ]  # fmt: skip


class RefundSerializer(serializers.Serializer):
    refund_no = serializers.CharField()
    order_no = serializers.CharField(source="order.order_no")
    amount = serializers.DecimalField(
        max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES
    )
    refunded_at = serializers.DateTimeField()
    business_date = serializers.DateField()


class CommissionPlanSerializer(serializers.ModelSerializer):
    brand = brand_code_field()
    store = store_code_field(required=False, allow_null=True)
    # A plain string rather than a choice field: the store kind enum is
    # already named by the stores API schema.
    store_kind = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="direct, franchise or distributor"
    )
    guide_rate = serializers.DecimalField(
        max_digits=RATE_MAX_DIGITS, decimal_places=RATE_DECIMAL_PLACES, min_value=Decimal(0),
        max_value=Decimal(100),
    )  # fmt: skip
    store_rate = serializers.DecimalField(
        max_digits=RATE_MAX_DIGITS, decimal_places=RATE_DECIMAL_PLACES, min_value=Decimal(0),
        max_value=Decimal(100),
    )  # fmt: skip

    def validate_store_kind(self, value):
        if value and value not in Store.Kind.values:
            raise serializers.ValidationError(f"Choose one of {', '.join(Store.Kind.values)}.")
        return value

    class Meta:
        model = CommissionPlan
        fields = [
            "id", "brand", "store_kind", "store", "category", "guide_rate", "store_rate",
            "valid_from", "valid_to", "specificity",
        ]  # fmt: skip
        read_only_fields = ["id", "specificity"]


class SettlementTermsSerializer(serializers.ModelSerializer):
    brand = brand_code_field()
    store = store_code_field(required=False, allow_null=True)
    hold_days = serializers.IntegerField(
        min_value=0, max_value=HOLD_DAYS_MAX, required=False, allow_null=True
    )

    class Meta:
        model = SettlementTerms
        fields = ["id", "brand", "store", "mode", "hold_days"]
        read_only_fields = ["id"]
        validators = []  # the service upserts: one row per brand and store


class CommissionEntrySerializer(serializers.ModelSerializer):
    order_no = serializers.CharField(source="order.order_no")
    refund_no = serializers.CharField(source="refund.refund_no", default=None, allow_null=True)
    brand = serializers.CharField(source="brand.code")
    store = serializers.CharField(source="store.code")
    guide = serializers.CharField(source="guide.employee_no", default=None, allow_null=True)

    class Meta:
        model = CommissionEntry
        fields = [
            "id", "order_no", "refund_no", "beneficiary", "guide", "store", "brand", "category",
            "business_date", "base_amount", "plan", "rate", "amount", "mode", "settlement",
            "created_at",
        ]  # fmt: skip


class SettlementSerializer(serializers.ModelSerializer):
    brand = serializers.CharField(source="brand.code")
    store = serializers.CharField(source="store.code")
    guide = serializers.CharField(source="guide.employee_no", default=None, allow_null=True)

    class Meta:
        model = Settlement
        fields = [
            "id", "beneficiary", "guide", "store", "brand", "mode", "period_start", "period_end",
            "source_ref", "entries_total", "carried_forward", "total", "status", "payout_ref",
            "paid_at", "created_at",
        ]  # fmt: skip


class MarkPaidSerializer(serializers.Serializer):
    payout_ref = serializers.CharField(max_length=100)


class CommissionReportQuerySerializer(serializers.Serializer):
    """The report's filters; codes become rows, so an unknown code is a 400 naming the field."""

    date_from = serializers.DateField(required=False, help_text="First business date, inclusive.")
    date_to = serializers.DateField(required=False, help_text="Last business date, inclusive.")
    brand = brand_code_field(required=False)
    region = region_code_field(
        required=False,
        help_text="Region code; its sub-regions are included.",
    )
    store = store_code_field(required=False)
    guide = guide_employee_no_field(required=False)
    status = serializers.ChoiceField(choices=EntryStatus.values, required=False)
    group_by = serializers.ChoiceField(
        choices=[choice for choice, _label in Grouping.CHOICES], default=Grouping.STORE
    )
    export = serializers.ChoiceField(choices=["csv", "xlsx"], required=False)

    def validate(self, attrs):
        date_from, date_to = attrs.get("date_from"), attrs.get("date_to")
        if date_from and date_to and date_from > date_to:
            raise serializers.ValidationError({"date_to": "Must not be before date_from."})
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
        )


def _money_sum_field() -> serializers.DecimalField:
    # No cap on the digits of a sum: DRF fails the whole answer (a 500) on a
    # value wider than its field, and a sum of entries that each fit their
    # column can be any width.
    return serializers.DecimalField(max_digits=None, decimal_places=MONEY_DECIMAL_PLACES)


class CommissionReportTotalsSerializer(serializers.Serializer):
    entries = serializers.IntegerField()
    base_amount = _money_sum_field()
    amount = _money_sum_field()


class CommissionReportRowSerializer(CommissionReportTotalsSerializer):
    key = serializers.CharField()
    label = serializers.CharField()


class CommissionReportSerializer(serializers.Serializer):
    group_by = serializers.CharField()
    rows = CommissionReportRowSerializer(many=True)
    totals = CommissionReportTotalsSerializer()
