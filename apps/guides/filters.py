"""Query filters of the guide list."""

import django_filters
from django.utils.translation import gettext_lazy as _

from apps.guides.models import Guide


class GuideFilter(django_filters.FilterSet):
    store = django_filters.CharFilter(field_name="store__code", label=_("Store code"))
    brand = django_filters.CharFilter(field_name="store__brands__code", label=_("Brand code"))

    is_active = django_filters.BooleanFilter(
        label=_("true: active guides only; false: those who left")
    )

    class Meta:
        model = Guide
        fields = ["store", "brand", "role", "is_active"]
