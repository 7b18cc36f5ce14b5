"""Query filters of the member list."""

import django_filters
from django.utils.translation import gettext_lazy as _

from apps.core.filters import PhoneFilter
from apps.customers.models import Membership


class MembershipFilter(django_filters.FilterSet):
    brand = django_filters.CharFilter(field_name="brand__code", label=_("Brand code"))
    store = django_filters.CharFilter(field_name="store__code", label=_("Store code"))
    guide = django_filters.CharFilter(
        field_name="guide__employee_no", label=_("Guide employee no.")
    )
    status = django_filters.ChoiceFilter(
        field_name="assignment_status",
        choices=Membership.Status.choices,
        label=_("Assignment status: pending, assigned or unassigned"),
    )

    phone = PhoneFilter(
        field_name="customer__phone",
        label=_("The member's full mobile number (+86, spaces and dashes allowed)"),
    )

    class Meta:
        model = Membership
        fields = ["brand", "store", "guide", "status", "unassigned_reason", "source"]
