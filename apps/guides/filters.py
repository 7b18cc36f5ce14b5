"""Query filters of the guide list."""

import django_filters

from apps.guides.models import Guide


class GuideFilter(django_filters.FilterSet):
    store = django_filters.CharFilter(field_name="store__code", label="Store code")
    brand = django_filters.CharFilter(field_name="store__brands__code", label="Brand code")

    class Meta:
        model = Guide
        fields = ["store", "brand", "role", "is_active"]
