"""Query filters of the incentives lists (besides the shared vocabulary of apps.core.listing)."""

import django_filters
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions

from apps.incentives import services
from apps.incentives.models import PointsAccount, SalesTarget


class SalesTargetFilter(django_filters.FilterSet):
    brand = django_filters.CharFilter(field_name="brand__code", help_text=_("Brand code."))
    month = django_filters.CharFilter(
        method="filter_month", help_text=_("One month, YYYY-MM (local calendar).")
    )

    class Meta:
        model = SalesTarget
        fields = ["beneficiary"]

    def filter_month(self, queryset, name, value):
        try:
            return queryset.filter(month=services.month_parse(value))
        except ValidationError as exc:
            raise exceptions.ValidationError({"month": exc.messages}) from None


class PointsAccountFilter(django_filters.FilterSet):
    brand = django_filters.CharFilter(field_name="brand__code", help_text=_("Brand code."))

    class Meta:
        model = PointsAccount
        fields = []
