"""API shapes of targets, bonus plans and points."""

from django.utils.translation import gettext_lazy as _
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
    month = MonthField(help_text=_("YYYY-MM"))
    store = store_code_field(required=False, allow_null=True, help_text=_("A store's target."))
    guide = guide_employee_no_field(
        required=False, allow_null=True, help_text=_("A guide's target (their store is implied).")
    )
    amount = serializers.DecimalField(
        max_digits=TARGET_MAX_DIGITS,
        decimal_places=MONEY_DECIMAL_PLACES,
        min_value=0,
        help_text=_("The month's net sales target, CNY, a decimal string with 2 places."),
    )


class SalesTargetImportSerializer(serializers.Serializer):
    csv = serializers.CharField(
        max_length=4_000_000,
        help_text=_("CSV text with the header brand,month,store,guide,amount (month YYYY-MM)."),
        trim_whitespace=False,
    )


class SalesTargetSerializer(serializers.ModelSerializer):
    brand = serializers.CharField(source="brand.code")
    store = serializers.CharField(source="store.code")
    guide = serializers.CharField(source="guide.employee_no", default=None, allow_null=True)
    net_sales = serializers.SerializerMethodField(
        help_text=_("Net sales so far in the month (refunds subtracted), CNY decimal string.")
    )
    achievement = serializers.SerializerMethodField(
        help_text=_("Net sales as a percent of the target, a decimal string.")
    )
    projected_bonus = serializers.SerializerMethodField(
        help_text=_("The bonus the plan would pay at today's figures, CNY (null: no plan).")
    )
    brackets_reached = serializers.SerializerMethodField(
        help_text=_("How many of the plan's brackets are reached (null: no plan).")
    )
    bonus = serializers.SerializerMethodField(
        help_text=_("The bonus the month close wrote, CNY (its latest revision); null before.")
    )

    class Meta:
        model = SalesTarget
        fields = [
            "id", "brand", "beneficiary", "store", "guide", "month", "amount", "net_sales",
            "achievement", "brackets_reached", "projected_bonus", "bonus", "updated_at",
        ]  # fmt: skip
        extra_kwargs = {
            "beneficiary": {"help_text": _("Whose target: guide or store.")},
            "amount": {"help_text": _("The target, CNY, a decimal string with 2 places.")},
        }

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
    beneficiary = serializers.ChoiceField(
        choices=Beneficiary.choices, help_text=_("Who earns the bonus: guide or store.")
    )
    brackets = serializers.JSONField(
        help_text=_(
            '[{"from": "100", "to": "120", "rate": "1"}, {"from": "120", "to": null, '
            '"rate": "2"}]: percent of the target (basis achievement) or yuan (net_sales).'
        )
    )
    valid_from = MonthField(help_text=_("First month, YYYY-MM."))
    valid_to = MonthField(required=False, allow_null=True, help_text=_("Last month, YYYY-MM."))

    class Meta:
        model = BonusPlan
        fields = [
            "id", "name", "brand", "beneficiary", "store_kind", "store", "basis", "brackets",
            "cap", "valid_from", "valid_to", "specificity", "created_at",
        ]  # fmt: skip
        read_only_fields = ["specificity", "created_at"]
        extra_kwargs = {
            "name": {"help_text": _("The plan's name, e.g. 三月冲刺奖.")},
            "store_kind": {"help_text": _("Stores of this kind only (empty: any kind).")},
            "basis": {"help_text": _("What brackets measure: achievement (percent of the "
                                     "target) or net_sales (CNY).")},
            "specificity": {"help_text": _("How narrow the plan is: the narrowest valid plan "
                                           "pays.")},
        }  # fmt: skip


class PointsAccountSerializer(serializers.ModelSerializer):
    guide = serializers.CharField(source="guide.employee_no")
    guide_name = serializers.CharField(source="guide.name", help_text=_("The guide's name."))
    store = serializers.CharField(source="guide.store.code")
    brand = serializers.CharField(source="brand.code")
    store_rank = serializers.IntegerField(help_text=_("1 = the most points in the store."))

    class Meta:
        model = PointsAccount
        fields = ["id", "guide", "guide_name", "store", "brand", "balance", "store_rank"]
        extra_kwargs = {"balance": {"help_text": _("Points held now (never below zero).")}}


class PointsMovementSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(
        source="actor.username",
        default=None,
        allow_null=True,
        help_text=_("Login of who moved them (null: the monthly run)."),
    )

    class Meta:
        model = PointsMovement
        fields = ["id", "kind", "points", "month", "reward", "reason", "reference", "actor",
                  "created_at"]  # fmt: skip
        extra_kwargs = {
            "kind": {"help_text": _("sales, members, follow_ups (earned) or redemption.")},
            "points": {"help_text": _("Points moved: positive earned, negative redeemed.")},
            "reward": {"help_text": _("For a redemption: gift, cash, leave or other.")},
            "reason": {"help_text": _("Why, in words.")},
        }


class PointsRedeemSerializer(serializers.Serializer):
    guide = guide_employee_no_field()
    brand = brand_code_field()
    points = serializers.IntegerField(
        min_value=1, max_value=10_000_000, help_text=_("Points to redeem, at least 1.")
    )
    reward = serializers.ChoiceField(
        choices=PointsMovement.Reward.choices,
        help_text=_("What they are redeemed for: gift, cash, leave or other."),
    )
    reason = serializers.CharField(max_length=200, help_text=_("Why, up to 200 characters."))
    reference = serializers.CharField(
        max_length=100, help_text=_("Your key: the same reference again writes nothing new.")
    )
