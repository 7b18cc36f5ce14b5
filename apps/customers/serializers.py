"""API shapes of members and their sign-up."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api import ChoiceField, coord_system_field, location_to_wgs84
from apps.core.geo import CoordSystem
from apps.core.phones import phone_normalise
from apps.core.scoping import mask_phone
from apps.customers.models import Membership
from apps.guides.serializers import guide_employee_no_field
from apps.stores.serializers import brand_code_field, store_code_field


class MemberJoinSerializer(serializers.Serializer):
    brand = brand_code_field()
    phone = serializers.CharField(
        max_length=32,
        help_text=_(
            "Mainland mobile number, e.g. 13812345678; +86, spaces and dashes are taken. With "
            "the brand, the key of the sign-up: the same phone again answers 200 with the "
            "existing membership."
        ),
    )
    name = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("The shopper's name, up to 100 characters."),
    )
    latitude = serializers.FloatField(
        min_value=-90,
        max_value=90,
        required=False,
        allow_null=True,
        help_text=_(
            "Where the shopper is, in degrees, in ``coord_system``; with longitude. Finds the "
            "nearest store when no store is given."
        ),
    )
    longitude = serializers.FloatField(
        min_value=-180,
        max_value=180,
        required=False,
        allow_null=True,
        help_text=_("Longitude in degrees, in ``coord_system``; with latitude."),
    )
    coord_system = coord_system_field()
    store = store_code_field(
        required=False,
        allow_null=True,
        help_text=_("Store code from a store QR code; wins over the location."),
    )
    guide = guide_employee_no_field(
        required=False,
        allow_null=True,
        help_text=_("Guide employee no. from a guide's QR code."),
    )
    source = ChoiceField(
        choices=Membership.Source.choices,
        required=False,
        help_text=_(
            "Where the sign-up came from; default store_qr with a store or guide, else "
            "mini_program."
        ),
    )
    consent_notice = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        default="",
        help_text=_(
            "Version of the brand's privacy notice the member accepted; required where "
            "the brand's privacy policy says so."
        ),
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
    phone = serializers.SerializerMethodField(
        help_text=_(
            "Mobile number: in full for HQ, and in a sign-up's answer for the number the "
            "caller sent (normalised); else masked, e.g. 138****5678."
        )
    )
    coord_system = serializers.SerializerMethodField(
        help_text=_(
            "Coordinate system of latitude and longitude in this answer: always wgs84 "
            "(WGS-84, as GPS reports). Sign-ups may send gcj02 or bd09; they are converted."
        )
    )
    name = serializers.CharField(
        source="customer.name", read_only=True, help_text=_("The shopper's name.")
    )
    store = serializers.SlugRelatedField(
        slug_field="code",
        read_only=True,
        allow_null=True,
        help_text=_("Code of the store the member is bound to (null: not yet)."),
    )
    guide = serializers.SlugRelatedField(
        slug_field="employee_no",
        read_only=True,
        allow_null=True,
        help_text=_("Employee no. of the member's guide (null: not yet)."),
    )
    # Read-only model fields lose allow_blank; "" (no reason: pending or assigned)
    # is part of what the API answers.
    unassigned_reason = ChoiceField(
        choices=Membership.UnassignedReason.choices,
        allow_blank=True,
        read_only=True,
        help_text=_("Why an unassigned member has no store or guide; empty otherwise."),
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
            "coord_system",
            "source",
            "joined_at",
            "bound_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "assignment_status": {
                "help_text": _(
                    "pending (a worker is finding the nearest store and guide, seconds), "
                    "assigned or unassigned."
                )
            },
            "distance_km": {
                "help_text": _(
                    "Kilometres from the member's location to their store; to 0.1 km "
                    "unless the caller is HQ (null: no location)."
                )
            },
            "latitude": {
                "help_text": _(
                    "WGS-84 latitude the member joined from; HQ only (null for other roles), "
                    "except in a sign-up's answer when it is the one the caller sent."
                )
            },
            "longitude": {"help_text": _("WGS-84 longitude; shown as latitude is.")},
            "source": {"help_text": _("Where the sign-up came from.")},
            "joined_at": {
                "help_text": _("When the member joined the brand: ISO 8601 with its UTC offset.")
            },
            "bound_at": {
                "help_text": _("When the member was bound to their current guide (null: not yet).")
            },
        }

    def get_phone(self, membership) -> str:
        phone = membership.customer.phone
        if not self.context.get("mask_phones", True) or phone in self._sent():
            return phone
        return mask_phone(phone)

    @extend_schema_field({"type": "string", "enum": [CoordSystem.WGS84.value]})
    def get_coord_system(self, membership) -> str:
        return CoordSystem.WGS84.value

    def _sent(self) -> dict:
        """Normalised phone to the WGS-84 location the caller sent for it in this request."""
        return self.context.get("sent_by_caller") or {}

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if self.context.get("hide_location", True):
            # Staff below HQ and integrations learn how far a member lives, to
            # 0.1 km, not where, unless the location is the one they just sent.
            sent = self._sent().get(instance.customer.phone)
            if sent is None or sent != (instance.latitude, instance.longitude):
                data["latitude"] = data["longitude"] = None
            if data["distance_km"] is not None:
                data["distance_km"] = round(data["distance_km"], 1)
        return data


class MembershipReassignSerializer(serializers.Serializer):
    guide = guide_employee_no_field(
        help_text=_("Employee no. of the guide to move the member to (their store follows).")
    )
