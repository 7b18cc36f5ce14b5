"""Query filters of the ledger lists (entries, settlements)."""

import django_filters
from django.utils.translation import gettext_lazy as _

from apps.commissions.models import CommissionEntry, Order, Settlement
from apps.commissions.selectors import EntryStatus, entries_with_status
from apps.core.filters import PhoneFilter


class CommissionEntryFilter(django_filters.FilterSet):
    brand = django_filters.CharFilter(field_name="brand__code", label=_("Brand code"))
    store = django_filters.CharFilter(field_name="store__code", label=_("Store code"))
    guide = django_filters.CharFilter(
        field_name="guide__employee_no", label=_("Guide employee no.")
    )
    status = django_filters.ChoiceFilter(choices=EntryStatus.choices, method="filter_status")

    class Meta:
        model = CommissionEntry
        fields = ["kind", "beneficiary", "mode"]

    def filter_status(self, queryset, name, value):
        return entries_with_status(queryset, value)


class OrderFilter(django_filters.FilterSet):
    brand = django_filters.CharFilter(field_name="brand__code", label=_("Brand code"))
    store = django_filters.CharFilter(field_name="store__code", label=_("Store code"))
    guide = django_filters.CharFilter(
        field_name="attributed_guide__employee_no",
        label=_("Employee no. of the guide credited with the order"),
    )
    phone = PhoneFilter(
        field_name="member_phone",
        label=_("The member's full mobile number (+86, spaces and dashes allowed)"),
    )

    class Meta:
        model = Order
        fields = ["brand", "store", "guide", "phone", "attribution_reason"]


class SettlementFilter(django_filters.FilterSet):
    brand = django_filters.CharFilter(field_name="brand__code", label=_("Brand code"))
    store = django_filters.CharFilter(field_name="store__code", label=_("Store code"))
    guide = django_filters.CharFilter(
        field_name="guide__employee_no", label=_("Guide employee no.")
    )

    class Meta:
        model = Settlement
        fields = ["beneficiary", "mode", "status"]
