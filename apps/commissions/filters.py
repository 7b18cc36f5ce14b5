"""Query filters of the ledger lists (entries, settlements)."""

import django_filters

from apps.commissions.models import CommissionEntry, Settlement
from apps.commissions.selectors import EntryStatus, entries_with_status


class CommissionEntryFilter(django_filters.FilterSet):
    brand = django_filters.CharFilter(field_name="brand__code")
    store = django_filters.CharFilter(field_name="store__code")
    guide = django_filters.CharFilter(field_name="guide__employee_no")
    status = django_filters.ChoiceFilter(choices=EntryStatus.choices, method="filter_status")
    business_date_from = django_filters.DateFilter(field_name="business_date", lookup_expr="gte")
    business_date_to = django_filters.DateFilter(field_name="business_date", lookup_expr="lte")

    class Meta:
        model = CommissionEntry
        fields = ["kind", "beneficiary", "mode"]

    def filter_status(self, queryset, name, value):
        return entries_with_status(queryset, value)


class SettlementFilter(django_filters.FilterSet):
    brand = django_filters.CharFilter(field_name="brand__code")
    store = django_filters.CharFilter(field_name="store__code")
    guide = django_filters.CharFilter(field_name="guide__employee_no")
    period_from = django_filters.DateFilter(field_name="period_end", lookup_expr="gte")
    period_to = django_filters.DateFilter(field_name="period_start", lookup_expr="lte")

    class Meta:
        model = Settlement
        fields = ["beneficiary", "mode", "status"]
