import django_filters

from apps.commissions.models import CommissionEntry, Settlement
from apps.commissions.selectors import unsettled_q


class CommissionEntryFilter(django_filters.FilterSet):
    brand = django_filters.CharFilter(field_name="brand__code")
    store = django_filters.CharFilter(field_name="store__code")
    guide = django_filters.CharFilter(field_name="guide__employee_no")
    status = django_filters.ChoiceFilter(
        choices=[("unsettled", "unsettled"), ("settled", "settled"), ("paid", "paid")],
        method="filter_status",
    )
    business_date_from = django_filters.DateFilter(field_name="business_date", lookup_expr="gte")
    business_date_to = django_filters.DateFilter(field_name="business_date", lookup_expr="lte")

    class Meta:
        model = CommissionEntry
        fields = ["beneficiary", "mode"]

    def filter_status(self, queryset, name, value):
        if value == "unsettled":
            return queryset.filter(unsettled_q())
        return queryset.filter(settlement__status=value)


class SettlementFilter(django_filters.FilterSet):
    brand = django_filters.CharFilter(field_name="brand__code")
    store = django_filters.CharFilter(field_name="store__code")
    guide = django_filters.CharFilter(field_name="guide__employee_no")
    period_from = django_filters.DateFilter(field_name="period_end", lookup_expr="gte")
    period_to = django_filters.DateFilter(field_name="period_start", lookup_expr="lte")

    class Meta:
        model = Settlement
        fields = ["beneficiary", "mode", "status"]
