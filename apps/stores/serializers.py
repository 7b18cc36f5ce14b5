"""API shapes of brands, regions and stores."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.core.api import code_field, coord_system_field, location_to_wgs84
from apps.stores.models import Brand, Region, Store


def brand_code_field(**kwargs) -> serializers.SlugRelatedField:
    """A brand named by its code (writable)."""
    return code_field(
        Brand,
        slug_field="code",
        unknown=_("Unknown brand code '{value}'."),
        cache_lookups=True,
        **kwargs,
    )


def region_code_field(**kwargs) -> serializers.SlugRelatedField:
    """A region named by its code (writable)."""
    return code_field(
        Region, slug_field="code", unknown=_("Unknown region code '{value}'."), **kwargs
    )


def store_code_field(**kwargs) -> serializers.SlugRelatedField:
    """A store named by its code (writable)."""
    return code_field(
        Store,
        slug_field="code",
        unknown=_("Unknown store code '{value}'."),
        cache_lookups=True,
        **kwargs,
    )


class CodeImmutableMixin:
    """Business codes are identities: settable on create, fixed afterwards."""

    immutable_fields = ("code",)

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None:
            for name in self.immutable_fields:
                fields[name].read_only = True
        return fields


class BrandSerializer(CodeImmutableMixin, serializers.ModelSerializer):
    class Meta:
        model = Brand
        fields = ["code", "name", "max_assign_km", "created_at"]
        read_only_fields = ["created_at"]
        extra_kwargs = {
            "code": {"help_text": _("The brand's code, e.g. AUR; fixed once created.")},
            "name": {"help_text": _("The brand's name, e.g. 极光.")},
        }


class RegionSerializer(CodeImmutableMixin, serializers.ModelSerializer):
    parent = region_code_field(
        required=False,
        allow_null=True,
        help_text=_("Code of the region this one is part of (null: a top region)."),
    )

    class Meta:
        model = Region
        fields = ["code", "name", "parent"]
        extra_kwargs = {
            "code": {"help_text": _("The region's code, e.g. EAST; fixed once created.")},
            "name": {"help_text": _("The region's name, e.g. 华东区.")},
        }


class StoreSerializer(CodeImmutableMixin, serializers.ModelSerializer):
    brands = brand_code_field(
        many=True, required=False, help_text=_("Codes of the brands the store sells.")
    )
    region = region_code_field(
        required=False, allow_null=True, help_text=_("Code of the store's region (null: none).")
    )
    latitude = serializers.FloatField(
        min_value=-90,
        max_value=90,
        help_text=_(
            "Latitude in degrees. Sent in ``coord_system``; stored and answered in WGS-84."
        ),
    )
    longitude = serializers.FloatField(
        min_value=-180,
        max_value=180,
        help_text=_(
            "Longitude in degrees. Sent in ``coord_system``; stored and answered in WGS-84."
        ),
    )
    coord_system = coord_system_field()
    service_radius_km = serializers.FloatField(
        min_value=0.001,
        required=False,
        allow_null=True,
        help_text=_("Kilometres: members farther away are not assigned here (null: no limit)."),
    )

    class Meta:
        model = Store
        fields = [
            "code",
            "name",
            "brands",
            "kind",
            "region",
            "address",
            "city",
            "latitude",
            "longitude",
            "coord_system",
            "is_active",
            "service_radius_km",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {
            "code": {"help_text": _("The store's code, e.g. SH01; fixed once created.")},
            "name": {"help_text": _("The store's name, e.g. 上海南京西路店.")},
            "kind": {"help_text": _("How the store is run: direct, franchise or distributor.")},
            "address": {"help_text": _("Street address, as shoppers read it.")},
            "city": {"help_text": _("City, e.g. 上海; the store list filters on it.")},
            "is_active": {
                "help_text": _("False: closed (deactivated, never deleted); no new members.")
            },
        }

    def validate(self, attrs):
        if self.instance is not None and attrs.get("coord_system", "wgs84") == "wgs84":
            # A partial update may move one coordinate alone when it is WGS-84.
            attrs.setdefault("latitude", self.instance.latitude)
            attrs.setdefault("longitude", self.instance.longitude)
        return location_to_wgs84(attrs)
