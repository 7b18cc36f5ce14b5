"""One query vocabulary for every API list: dates, ordering, paging, and nothing unknown.

Every list takes ``date_from`` / ``date_to`` (local calendar dates, inclusive)
when it has a date to filter on, ``ordering`` (a field, ``-`` for descending,
comma-separated), ``page`` and ``page_size``; a list declares which date its
``date_from`` / ``date_to`` mean with ``list_date`` (``None``: it has none).
A query parameter the list does not take is a 400 naming it, so a misspelt
filter never answers every row.
"""

import datetime as dt
from dataclasses import dataclass

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions, filters, mixins, pagination, serializers
from rest_framework.filters import BaseFilterBackend
from rest_framework.response import Response

# Query parameters every list takes besides its filters: DRF's format suffix.
ALWAYS_ALLOWED = frozenset({"format"})
DATE_FROM, DATE_TO = "date_from", "date_to"
PAGE_SIZE_MAX = 500
# A list's ``count`` is exact up to this many rows; past it the list answers
# ``count`` = this number with ``count_exact`` false ("at least"). Counting a
# region's half a million members costs more than the page itself (a quarter
# of a second for the first 10,000 of a region's members, docs/benchmarks.md),
# and no one pages through a thousand rows by hand (an export or ``next`` does).
COUNT_EXACT_UP_TO = 1_000


@dataclass(frozen=True)
class ListDate:
    """The date a list's ``date_from`` / ``date_to`` filter on.

    ``field`` is a DateField or a DateTimeField (a moment is compared by its
    local calendar date). With ``end_field`` the rows are periods, kept when
    they overlap ``date_from … date_to``; an empty ``end_field`` is open-ended.
    """

    field: str
    meaning: str
    end_field: str | None = None


def list_date_of(view) -> ListDate | None:
    return getattr(view, "list_date", None)


def view_is_list(view) -> bool:
    if hasattr(view, "action"):
        return view.action == "list"
    return view.request.method == "GET" and isinstance(view, mixins.ListModelMixin)


def allowed_query_params(view, request, queryset=None) -> set[str]:
    """Return every query parameter ``view``'s list takes: filters, dates, ordering, paging."""
    allowed = set(ALWAYS_ALLOWED) | set(getattr(view, "extra_query_params", ()))
    for backend_class in getattr(view, "filter_backends", ()):
        backend = backend_class()
        if isinstance(backend, DjangoFilterBackend):
            filterset_class = backend.get_filterset_class(view, queryset)
            if filterset_class is not None:
                allowed |= set(filterset_class.base_filters)
        elif isinstance(backend, filters.OrderingFilter):
            allowed.add(backend.ordering_param)
        elif isinstance(backend, filters.SearchFilter):
            if getattr(view, "search_fields", None):
                allowed.add(backend.search_param)
        elif isinstance(backend, ListQueryFilter) and list_date_of(view) is not None:
            allowed |= {DATE_FROM, DATE_TO}
    paginator = getattr(view, "paginator", None)
    if paginator is not None:
        allowed.add(getattr(paginator, "page_query_param", "page"))
        if getattr(paginator, "page_size_query_param", None):
            allowed.add(paginator.page_size_query_param)
    return allowed


def query_params_refuse_unknown(request, allowed) -> None:
    unknown = sorted(set(request.query_params) - set(allowed))
    if unknown:
        valid = ", ".join(sorted(allowed - ALWAYS_ALLOWED))
        raise exceptions.ValidationError(
            {
                name: [
                    _("Unknown query parameter '%(name)s'. This list takes: %(valid)s.")
                    % {"name": name, "valid": valid}
                ]
                for name in unknown
            }
        )


def _date_param(request, name: str) -> dt.date | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        return serializers.DateField().to_internal_value(raw)
    except serializers.ValidationError as exc:
        raise exceptions.ValidationError(
            {name: [_("Enter a date as YYYY-MM-DD, e.g. 2026-03-10.")]}
        ) from exc


def _is_moment(model, path: str) -> bool:
    field = None
    for part in path.split("__"):
        field = model._meta.get_field(part)
        if field.is_relation:
            model = field.related_model
    return isinstance(field, models.DateTimeField)


def _day_start(day: dt.date) -> dt.datetime | None:
    """Return the local midnight starting ``day``, or None past the calendar's ends."""
    try:
        moment = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
        moment.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        return None
    return moment


def _on_or_after(path: str, day: dt.date, *, moment: bool) -> Q:
    if not moment:
        return Q(**{f"{path}__gte": day})
    start = _day_start(day)
    return Q() if start is None else Q(**{f"{path}__gte": start})


def _on_or_before(path: str, day: dt.date, *, moment: bool) -> Q:
    if not moment:
        return Q(**{f"{path}__lte": day})
    end = _day_start(day + dt.timedelta(days=1)) if day < dt.date.max else None
    return Q() if end is None else Q(**{f"{path}__lt": end})


def date_range_q(list_date: ListDate, model, date_from, date_to) -> Q:
    """Return the condition keeping rows whose ``list_date`` falls in (or overlaps) the range."""
    start_path, end_path = list_date.field, list_date.end_field or list_date.field
    condition = Q()
    if date_from is not None:
        after = _on_or_after(end_path, date_from, moment=_is_moment(model, end_path))
        if list_date.end_field:
            after |= Q(**{f"{end_path}__isnull": True})
        condition &= after
    if date_to is not None:
        condition &= _on_or_before(start_path, date_to, moment=_is_moment(model, start_path))
    return condition


class ListQueryFilter(BaseFilterBackend):
    """Refuse unknown query parameters of a list, then apply ``date_from`` / ``date_to``."""

    def filter_queryset(self, request, queryset, view):
        if not view_is_list(view):
            return queryset
        query_params_refuse_unknown(request, allowed_query_params(view, request, queryset))
        list_date = list_date_of(view)
        if list_date is None:
            return queryset
        date_from, date_to = _date_param(request, DATE_FROM), _date_param(request, DATE_TO)
        if date_from and date_to and date_from > date_to:
            raise exceptions.ValidationError({DATE_TO: [_("date_to is before date_from.")]})
        return queryset.filter(date_range_q(list_date, queryset.model, date_from, date_to))

    def get_schema_operation_parameters(self, view):
        list_date = list_date_of(view)
        if list_date is None:
            return []
        what = {"what": list_date.meaning}
        return [
            {
                "name": DATE_FROM,
                "required": False,
                "in": "query",
                "description": _(
                    "First day, inclusive (YYYY-MM-DD, a calendar date in the server's time "
                    "zone, Asia/Shanghai by default), of %(what)s."
                )
                % what,
                "schema": {"type": "string", "format": "date"},
            },
            {
                "name": DATE_TO,
                "required": False,
                "in": "query",
                "description": _(
                    "Last day, inclusive (YYYY-MM-DD, a calendar date in the server's time "
                    "zone, Asia/Shanghai by default), of %(what)s."
                )
                % what,
                "schema": {"type": "string", "format": "date"},
            },
        ]


class StrictOrderingFilter(filters.OrderingFilter):
    """``ordering`` as DRF takes it, but an unknown field is a 400 listing the valid ones."""

    ordering_description = gettext_lazy(
        "Fields to sort by, comma-separated; a leading '-' sorts descending. "
        "An unknown field is a 400 listing the valid ones."
    )

    def remove_invalid_fields(self, queryset, fields, view, request):
        valid = [item[0] for item in self.get_valid_fields(queryset, view, {"request": request})]
        unknown = [term for term in fields if term.lstrip("-") not in valid]
        if unknown:
            raise exceptions.ValidationError(
                {
                    self.ordering_param: [
                        _("Unknown ordering field '%(name)s'. Choose from: %(valid)s.")
                        % {"name": unknown[0].lstrip("-"), "valid": ", ".join(valid)}
                    ]
                }
            )
        return super().remove_invalid_fields(queryset, fields, view, request)


class CappedCountPage(Page):
    """A page that knows whether another follows without knowing how many rows there are."""

    def __init__(self, object_list, number, paginator, *, more: bool):
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self):
        return self.more


class CappedCountPaginator(Paginator):
    """Django's paginator, counting at most ``COUNT_EXACT_UP_TO + 1`` rows.

    Up to the cap the count is exact and pages behave as Django's. Past it the
    count stops at the cap (``count_exact`` is false) and a page is fetched
    with one row more than it shows, which tells whether a next page exists;
    a page past the last row is a 404, as with an exact count.
    """

    @cached_property
    def _counted(self) -> int:
        """Count the rows, stopping one past the cap."""
        if isinstance(self.object_list, models.QuerySet):
            # Unordered: any COUNT_EXACT_UP_TO + 1 rows will do, so the
            # database need not walk the list's order to find them.
            return self.object_list.order_by()[: COUNT_EXACT_UP_TO + 1].count()
        return len(self.object_list)

    @cached_property
    def count(self):
        return min(self._counted, COUNT_EXACT_UP_TO)

    @property
    def count_exact(self) -> bool:
        return self._counted <= COUNT_EXACT_UP_TO

    def validate_number(self, number):
        if self.count_exact:
            return super().validate_number(number)
        try:
            number = int(number)
        except (TypeError, ValueError) as exc:
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from exc
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number

    def page(self, number):
        number = self.validate_number(number)
        if self.count_exact:
            return super().page(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        return CappedCountPage(rows[: self.per_page], number, self, more=len(rows) > self.per_page)


class PageNumberPagination(pagination.PageNumberPagination):
    """Pages of ``PAGE_SIZE`` rows; ``page_size`` asks for 1 to ``PAGE_SIZE_MAX``.

    The answer is ``count`` (exact up to ``COUNT_EXACT_UP_TO`` rows, that
    number past it), ``count_exact``, ``next``, ``previous`` and ``results``.
    """

    django_paginator_class = CappedCountPaginator
    page_size_query_param = "page_size"
    max_page_size = PAGE_SIZE_MAX
    page_size_query_description = gettext_lazy(
        "Rows per page, 1 to 500 (default 50). Anything else is a 400."
    )
    page_query_description = gettext_lazy("Page number, from 1. A page past the last answers 404.")

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw in (None, ""):
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise exceptions.ValidationError(
                {
                    self.page_size_query_param: [
                        _("Enter a whole number from 1 to %(max)s.") % {"max": self.max_page_size}
                    ]
                }
            )
        return int(raw)

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.page.paginator.count,
                "count_exact": self.page.paginator.count_exact,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        answer = super().get_paginated_response_schema(schema)
        properties = answer["properties"]
        properties["count"]["description"] = _(
            "Rows matching the filters, on every page together: exact up to %(cap)s; past "
            "that, %(cap)s with count_exact false (at least that many)."
        ) % {"cap": f"{COUNT_EXACT_UP_TO:,}"}
        described = {
            "next": _("URL of the next page, or null on the last page."),
            "previous": _("URL of the previous page, or null on the first page."),
            "results": _("This page's rows, in the order asked for (``ordering``)."),
        }
        for name, description in described.items():
            properties[name]["description"] = description
        answer["properties"] = {
            "count": properties["count"],
            "count_exact": {
                "type": "boolean",
                "example": True,
                "description": _("false when count stopped at the cap: there are more rows."),
            },
            **{name: value for name, value in properties.items() if name != "count"},
        }
        answer["required"] = [*answer.get("required", []), "count_exact"]
        return answer


class SearchFilter(filters.SearchFilter):
    """DRF's ``search``, documented (and taken) only by lists that declare ``search_fields``."""

    def get_schema_operation_parameters(self, view):
        if not getattr(view, "search_fields", None):
            return []
        return super().get_schema_operation_parameters(view)


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend; a refused choice lists the valid values, as the bodies' do."""

    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid() and self.raise_exception:
            raise exceptions.ValidationError(self._errors(filterset.form))
        return filterset.qs

    @staticmethod
    def _errors(form) -> dict[str, list[str]]:
        errors = {}
        for name, field_errors in form.errors.as_data().items():
            field = form.fields.get(name)
            messages = []
            for error in field_errors:
                if error.code == "invalid_choice" and getattr(field, "choices", None):
                    valid = [str(value) for value, _label in field.choices if value != ""]
                    messages.append(
                        _("'%(value)s' is not a valid choice. Choose from: %(choices)s.")
                        % {"value": str(form.data.get(name, ""))[:64], "choices": ", ".join(valid)}
                    )
                else:
                    messages.extend(error.messages)
            errors[name] = messages
        return errors
