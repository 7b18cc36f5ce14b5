"""API shapes of targets, bonus plans and points."""

from rest_framework import serializers

from apps.commissions.models import Beneficiary
from apps.core.money import MONEY_DECIMAL_PLACES
from apps.guides.serializers import guide_employee_no_field
from apps.incentives.models import BonusPlan, PointsAccount, PointsMovement, SalesTarget
from apps.stores.serializers import brand_code_field, store_code_field

TARGET_MAX_DIGITS = 12


class MonthField(serializers.DateField):
    """A month written ``YYYY-MM`` (or as its first day) and read back as its first day."""

    def to_internal_value(self, value):
        from django.core.exceptions import ValidationError

        from apps.incentives.services import month_parse

        try:
            return month_parse(str(value))
        except ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None


class SalesTargetInputSerializer(serializers.Serializer):
    brand = brand_code_field()
    month = MonthField(help_text="YYYY-MM")
    store = store_code_field(required=False, allow_null=True, help_text="A store's target.")
    guide = guide_employee_no_field(
        required=False, allow_null=True, help_text="A guide's target (their store is implied)."
    )
    amount = serializers.DecimalField(
        max_digits=TARGET_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, min_value=0
    )


class SalesTargetImportSerializer(serializers.Serializer):
    csv = serializers.CharField(
        max_length=4_000_000,
        help_text="CSV text with the header brand,month,store,guide,amount (month YYYY-MM).",
        trim_whitespace=False,
    )


class SalesTargetSerializer(serializers.ModelSerializer):
    brand = serializers.CharField(source="brand.code")
    store = serializers.CharField(source="store.code")
    guide = serializers.CharField(source="guide.employee_no", default=None, allow_null=True)
    net_sales = serializers.SerializerMethodField()
    achievement = serializers.SerializerMethodField()
    projected_bonus = serializers.SerializerMethodField()
    brackets_reached = serializers.SerializerMethodField()
    bonus = serializers.SerializerMethodField()

    class Meta:
        model = SalesTarget
        fields = [
            "id", "brand", "beneficiary", "store", "guide", "month", "amount", "net_sales",
            "achievement", "brackets_reached", "projected_bonus", "bonus", "updated_at",
        ]  # fmt: skip

    def _progress(self, target):
        return self.context.get("progress", {}).get(target.pk)

    def get_net_sales(self, target) -> str | None:
        progress = self._progress(target)
        return None if progress is None else str(progress.net_sales)

    def get_achievement(self, target) -> str | None:
        progress = self._progress(target)
        return None if progress is None else str(progress.achievement)

    def get_brackets_reached(self, target) -> int | None:
        progress = self._progress(target)
        return progress.projected.brackets_reached if progress and progress.projected else None

    def get_projected_bonus(self, target) -> str | None:
        progress = self._progress(target)
        return str(progress.projected.bonus) if progress and progress.projected else None

    def get_bonus(self, target) -> str | None:
        """The bonus the month close wrote (its latest revision); null before the close."""
        progress = self._progress(target)
        return None if progress is None or progress.awarded is None else str(progress.awarded)


class BracketSerializer(serializers.Serializer):
    # Strings, as the plan stores them, so that no bound is rounded on the way.
    from_ = serializers.CharField(source="from")
    to = serializers.CharField(allow_null=True, required=False)
    rate = serializers.CharField()

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class BonusPlanSerializer(serializers.ModelSerializer):
    brand = brand_code_field()
    store = store_code_field(required=False, allow_null=True)
    beneficiary = serializers.ChoiceField(choices=Beneficiary.choices)
    brackets = serializers.JSONField(
        help_text='[{"from": "100", "to": "120", "rate": "1"}, {"from": "120", "to": null, '
        '"rate": "2"}]: percent of the target (basis achievement) or yuan (net_sales).'
    )
    valid_from = MonthField(help_text="First month, YYYY-MM.")
    valid_to = MonthField(required=False, allow_null=True, help_text="Last month, YYYY-MM.")

    class Meta:
        model = BonusPlan
        fields = [
            "id", "name", "brand", "beneficiary", "store_kind", "store", "basis", "brackets",
            "cap", "valid_from", "valid_to", "specificity", "created_at",
        ]  # fmt: skip
        read_only_fields = ["specificity", "created_at"]


class PointsAccountSerializer(serializers.ModelSerializer):
    guide = serializers.CharField(source="guide.employee_no")
    guide_name = serializers.CharField(source="guide.name")
    store = serializers.CharField(source="guide.store.code")
    brand = serializers.CharField(source="brand.code")
    store_rank = serializers.IntegerField(help_text="1 = the most points in the store.")

    class Meta:
        model = PointsAccount
        fields = ["id", "guide", "guide_name", "store", "brand", "balance", "store_rank"]


class PointsMovementSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default=None, allow_null=True)

    class Meta:
        model = PointsMovement
        fields = ["id", "kind", "points", "month", "reward", "reason", "reference", "actor",
                  "created_at"]  # fmt: skip


class PointsRedeemSerializer(serializers.Serializer):
    guide = guide_employee_no_field()
    brand = brand_code_field()
    points = serializers.IntegerField(min_value=1, max_value=10_000_000)
    reward = serializers.ChoiceField(choices=PointsMovement.Reward.choices)
    reason = serializers.CharField(max_length=200)
    reference = serializers.CharField(
        max_length=100, help_text="Your key: the same reference again writes nothing new."
    )
