"""Query filters of the member list."""

import django_filters

from apps.core.filters import PhoneFilter
from apps.customers.models import Membership


class MembershipFilter(django_filters.FilterSet):
    brand = django_filters.CharFilter(field_name="brand__code", label="Brand code")
    store = django_filters.CharFilter(field_name="store__code", label="Store code")
    guide = django_filters.CharFilter(field_name="guide__employee_no", label="Guide employee no.")
    status = django_filters.ChoiceFilter(
        field_name="assignment_status", choices=Membership.Status.choices
    )

    phone = PhoneFilter(
        field_name="customer__phone",
        label="The member's full mobile number (+86, spaces and dashes allowed)",
    )

    class Meta:
        model = Membership
        fields = ["brand", "store", "guide", "status", "unassigned_reason", "source"]
