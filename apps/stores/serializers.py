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


class RegionSerializer(CodeImmutableMixin, serializers.ModelSerializer):
    parent = region_code_field(required=False, allow_null=True)

    class Meta:
        model = Region
        fields = ["code", "name", "parent"]


class StoreSerializer(CodeImmutableMixin, serializers.ModelSerializer):
    brands = brand_code_field(many=True, required=False)
    region = region_code_field(required=False, allow_null=True)
    latitude = serializers.FloatField(min_value=-90, max_value=90)
    longitude = serializers.FloatField(min_value=-180, max_value=180)
    coord_system = coord_system_field()
    service_radius_km = serializers.FloatField(min_value=0.001, required=False, allow_null=True)

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

    def validate(self, attrs):
        if self.instance is not None and attrs.get("coord_system", "wgs84") == "wgs84":
            # A partial update may move one coordinate alone when it is WGS-84.
            attrs.setdefault("latitude", self.instance.latitude)
            attrs.setdefault("longitude", self.instance.longitude)
        return location_to_wgs84(attrs)
