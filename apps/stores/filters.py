"""Query filters of the store list."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.stores.models import Region, Store
from apps.stores.selectors import region_descendant_ids


class StoreFilter(django_filters.FilterSet):
    brand = django_filters.CharFilter(field_name="brands__code", label=_("Brand code"))
    region = django_filters.CharFilter(method="filter_region", label=_("Region code (and below)"))
    city = django_filters.CharFilter(field_name="city", label=_("City, exactly as stored"))
    is_active = django_filters.BooleanFilter(label=_("true: open stores only; false: closed ones"))
    q = django_filters.CharFilter(method="filter_q", label=_("Code or name contains"))

    class Meta:
        model = Store
        fields = ["brand", "kind", "region", "city", "is_active"]

    def filter_region(self, queryset, name, value):
        region_ids = list(Region.objects.filter(code=value).values_list("pk", flat=True))
        return queryset.filter(region_id__in=region_descendant_ids(region_ids=region_ids))

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value))


class RegionFilter(django_filters.FilterSet):
    parent = django_filters.CharFilter(field_name="parent__code", label=_("Parent region code"))

    class Meta:
        model = Region
        fields = ["parent"]
