"""Query filters of the member list."""

import django_filters

from apps.core.filters import UtcIsoDateTimeFilter
from apps.customers.models import Membership


class MembershipFilter(django_filters.FilterSet):
    brand = django_filters.CharFilter(field_name="brand__code", label="Brand code")
    store = django_filters.CharFilter(field_name="store__code", label="Store code")
    guide = django_filters.CharFilter(field_name="guide__employee_no", label="Guide employee no.")
    status = django_filters.ChoiceFilter(
        field_name="assignment_status", choices=Membership.Status.choices
    )
    joined_after = UtcIsoDateTimeFilter(field_name="joined_at", lookup_expr="gte")
    joined_before = UtcIsoDateTimeFilter(field_name="joined_at", lookup_expr="lt")

    class Meta:
        model = Membership
        fields = ["brand", "store", "guide", "status", "unassigned_reason", "source"]
