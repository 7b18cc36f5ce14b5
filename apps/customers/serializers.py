"""API shapes of members and their sign-up."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from apps.core.api import ChoiceField, coord_system_field, location_to_wgs84
from apps.core.phones import phone_normalise
from apps.core.scoping import mask_phone
from apps.customers.models import Membership
from apps.guides.serializers import guide_employee_no_field
from apps.stores.serializers import brand_code_field, store_code_field


class MemberJoinSerializer(serializers.Serializer):
    brand = brand_code_field()
    phone = serializers.CharField(
        max_length=32, help_text="Mainland mobile; +86, spaces, dashes ok."
    )
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    latitude = serializers.FloatField(min_value=-90, max_value=90, required=False, allow_null=True)
    longitude = serializers.FloatField(
        min_value=-180, max_value=180, required=False, allow_null=True
    )
    coord_system = coord_system_field()
    store = store_code_field(
        required=False,
        allow_null=True,
        help_text="Store code from a store QR code; wins over the location.",
    )
    guide = guide_employee_no_field(
        required=False,
        allow_null=True,
        help_text="Guide employee no. from a guide's QR code.",
    )
    source = ChoiceField(choices=Membership.Source.choices, required=False)
    consent_notice = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        default="",
        help_text="Version of the brand's privacy notice the member accepted; required where "
        "the brand's privacy policy says so.",
    )

    def validate_phone(self, value):
        try:
            return phone_normalise(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc

    def validate(self, attrs):
        attrs = location_to_wgs84(attrs)
        if "source" not in attrs:
            explicit = attrs.get("store") or attrs.get("guide")
            attrs["source"] = (
                Membership.Source.STORE_QR if explicit else Membership.Source.MINI_PROGRAM
            )
        return attrs


class MembershipSerializer(serializers.ModelSerializer):
    brand = serializers.SlugRelatedField(slug_field="code", read_only=True)
    phone = serializers.SerializerMethodField()
    name = serializers.CharField(source="customer.name", read_only=True)
    store = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    guide = serializers.SlugRelatedField(slug_field="employee_no", read_only=True, allow_null=True)
    # Read-only model fields lose allow_blank; "" (no reason: pending or assigned)
    # is part of what the API answers.
    unassigned_reason = ChoiceField(
        choices=Membership.UnassignedReason.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Membership
        fields = [
            "id",
            "brand",
            "phone",
            "name",
            "store",
            "guide",
            "assignment_status",
            "unassigned_reason",
            "distance_km",
            "latitude",
            "longitude",
            "source",
            "joined_at",
            "bound_at",
        ]
        read_only_fields = fields

    def get_phone(self, membership) -> str:
        phone = membership.customer.phone
        return mask_phone(phone) if self.context.get("mask_phones", True) else phone

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if self.context.get("hide_location", True):
            # Staff below HQ learn how far a member lives, to 0.1 km, not where.
            data["latitude"] = data["longitude"] = None
            if data["distance_km"] is not None:
                data["distance_km"] = round(data["distance_km"], 1)
        return data


class MembershipReassignSerializer(serializers.Serializer):
    guide = guide_employee_no_field()
