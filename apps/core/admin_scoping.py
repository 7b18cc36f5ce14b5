"""Admin pieces that apply the API's row scoping and phone masking to the admin.

Every admin of stores, guides and members derives from ``ScopedModelAdmin``:
rows come from ``apps.core.scoping`` (the rule set the API uses), master data
is written by HQ operations only, and phone numbers are masked for everyone
but HQ operations in list columns, read-only fields and search. Every admin
of the project (``HQWritableModelAdmin`` and below) takes from the URL only
the lookups its filters and date hierarchy declare.
"""

from collections.abc import Callable
from functools import cache

from django import forms
from django.contrib import admin
from django.contrib.admin.filters import SimpleListFilter
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import get_fields_from_path
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin
from unfold.views import ChangeList

from apps.core.roles import Role, user_has_role
from apps.core.scoping import Scope, mask_phone, scope_for_request, scope_queryset

SEARCH_PREFIXES = "^=@"


def masked_phone_display(path: str, *, masks: bool, description=None) -> Callable[[Model], str]:
    """Return an admin display function showing the phone at ``path``, masked if ``masks``.

    ``path`` follows relations with ``__`` (``customer__phone``). The masked
    column is not sortable: ordering by the full number would let a reader
    bisect the hidden digits page by page.
    """

    def phone(obj: Model) -> str:
        value = obj
        for part in path.split("__"):
            value = getattr(value, part, None)
            if value is None:
                return "-"
        return mask_phone(value) if masks and value else value

    phone.__name__ = f"{path}_display"
    return admin.display(description=description or _("phone"), ordering=None if masks else path)(
        phone
    )


class ReadOnlyAdminMixin:
    """For append-only or system-maintained rows: the admin shows them and never writes."""

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@cache
def filter_lookups(model: type[Model], path: str) -> frozenset[str]:
    """Return the URL parameters Django's default list filter for ``path`` reads.

    The same choice of filter as ``FieldListFilter.create`` makes: relations,
    booleans, choices, dates, then every other field by its values.
    """
    field = get_fields_from_path(model, path)[-1]
    if field.remote_field:
        return frozenset({f"{path}__{field.target_field.name}__exact", f"{path}__isnull"})
    if isinstance(field, models.BooleanField) or field.choices:
        return frozenset({f"{path}__exact", f"{path}__isnull"})
    if isinstance(field, models.DateField):
        return frozenset({f"{path}__gte", f"{path}__lt", f"{path}__isnull"})
    return frozenset({path, f"{path}__isnull"})


def _filter_path(item):
    """The field path of a ``list_filter`` item: a path, or (path, filter class)."""
    return item[0] if isinstance(item, (list, tuple)) else item


class DeclaredLookupsChangeList(ChangeList):
    """Unfold's change list, answering a date drill-down past year 9999 as a bad parameter.

    Django 6.1 builds the end of a ``date_hierarchy`` year, month or day
    outside its ``try``, so ``?business_date__year=9999`` (the year after is
    not a date) was a server error; newer Django redirects to ``?e=1`` as
    for any bad lookup, and so does this.
    """

    def get_filters(self, request):
        try:
            return super().get_filters(request)
        except (ValueError, OverflowError) as exc:
            raise IncorrectLookupParameters(exc) from exc


class DeclaredLookupsMixin:
    """Take from the URL only the lookups the admin declares, for every role.

    Django's admin accepts any lookup on the model's own fields in the query
    string (``?phone__startswith=1500``, ``?phone__regex=…``): enough to read
    a masked number back digit by digit from the result count. Here a query
    parameter must be one that a declared ``list_filter`` reads, or the
    ``date_hierarchy``'s year, month or day; anything else is refused (400).
    """

    def declared_lookups(self, request: HttpRequest) -> frozenset[str]:
        lookups: set[str] = set()
        for item in self.get_list_filter(request):
            if isinstance(item, type) and issubclass(item, SimpleListFilter):
                lookups.add(item.parameter_name)
                continue
            lookups |= filter_lookups(self.model, _filter_path(item))
        if self.date_hierarchy:
            lookups |= {f"{self.date_hierarchy}__{part}" for part in ("year", "month", "day")}
        return frozenset(lookups)

    def lookup_allowed(self, lookup, value, request):
        return lookup in self.declared_lookups(request)

    def get_changelist(self, request, **kwargs):
        return DeclaredLookupsChangeList


class HQWritableModelAdmin(DeclaredLookupsMixin, ModelAdmin):
    """Master data every staff role may read and only HQ operations may write."""

    def is_hq(self, request: HttpRequest) -> bool:
        return user_has_role(request.user, Role.HQ_OPS)

    def has_add_permission(self, request, *args, **kwargs):
        return self.is_hq(request) and super().has_add_permission(request, *args, **kwargs)

    def has_change_permission(self, request, obj=None):
        return self.is_hq(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.is_hq(request) and super().has_delete_permission(request, obj)


class ScopedModelAdmin(HQWritableModelAdmin):
    """An admin whose rows are narrowed to what the user's roles may see.

    ``scope_store_path`` and ``scope_guide_path`` are the lookups from the
    model to its store and guide, as ``scope_queryset`` takes them.
    ``phone_paths`` names the phone fields (``phone``, ``customer__phone``):
    for roles that see masks they are swapped for a masked display in list
    columns and forms, are neither sortable nor a list filter (which would
    list every number), and are searched by the exact full number only, so a
    partial search cannot reveal the hidden digits.
    """

    scope_store_path: str | None = "store"
    scope_guide_path: str | None = "guide"
    phone_paths: tuple[str, ...] = ()

    def scope(self, request: HttpRequest) -> Scope:
        return scope_for_request(request)

    def scope_rows(self, queryset: QuerySet, scope: Scope) -> QuerySet:
        """Narrow ``queryset`` to ``scope``; override where the model needs another path."""
        return scope_queryset(
            queryset, scope, store_field=self.scope_store_path, guide_field=self.scope_guide_path
        )

    def get_queryset(self, request):
        return self.scope_rows(super().get_queryset(request), self.scope(request))

    def masks_phones(self, request: HttpRequest) -> bool:
        return self.scope(request).masks_phones

    def _masked(self, request: HttpRequest, names) -> list:
        if not self.masks_phones(request):
            return list(names)
        phones = set(self.phone_paths)
        return [
            masked_phone_display(name, masks=True) if name in phones else name for name in names
        ]

    def get_list_display(self, request):
        return self._masked(request, super().get_list_display(request))

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        if not self.masks_phones(request):
            return filters
        phones = set(self.phone_paths)
        return [item for item in filters if _filter_path(item) not in phones]

    def get_fields(self, request, obj=None):
        # Roles that see masks only ever view (never change) these rows, and a
        # view-only change form renders every field read-only, callables too.
        return self._masked(request, super().get_fields(request, obj))

    def get_search_fields(self, request):
        fields = super().get_search_fields(request)
        if not self.masks_phones(request):
            return fields
        phones = set(self.phone_paths)
        return [
            f"={field.lstrip(SEARCH_PREFIXES)}"
            if field.lstrip(SEARCH_PREFIXES) in phones
            else field
            for field in fields
        ]


class HQWritableHistoryAdmin(SimpleHistoryAdmin, HQWritableModelAdmin):
    """HQ-written master data whose change history (who, when) HQ operations read."""

    def has_view_history_or_change_history_permission(self, request, obj=None):
        return self.is_hq(request)


class ScopedHistoryAdmin(SimpleHistoryAdmin, ScopedModelAdmin):
    """A scoped admin whose change history (who changed what, when) HQ operations read.

    History rows carry every tracked field unmasked, phone numbers included,
    so the history pages are for HQ operations only.
    """

    def has_view_history_or_change_history_permission(self, request, obj=None):
        return self.is_hq(request)


def admin_shows_history(request: HttpRequest) -> bool:
    """Show the History button to HQ operations only (unfold's ``SHOW_HISTORY``).

    Other roles would get a 403 from the history pages of stores and guides.
    """
    return user_has_role(request.user, Role.HQ_OPS)


class ServiceCheckedForm(forms.ModelForm):
    """An admin form that runs the service's own validation in ``clean``.

    ``service_check(cleaned_data)`` calls the checks the service calls (the
    service runs them again under its locks when the admin saves), and their
    field errors land on the form's fields: the admin answers a 200 with the
    errors shown, never writes half, never answers a 500.
    """

    def service_check(self, cleaned_data: dict) -> None:
        raise NotImplementedError

    def clean(self):
        cleaned_data = super().clean()
        if self.errors:
            return cleaned_data
        try:
            self.service_check(cleaned_data)
        except ValidationError as exc:
            form_errors_add(self, exc)
            # The service named the fields; the database constraints behind
            # its checks would only repeat them as errors of the whole form.
            self._validate_constraints = False
        return cleaned_data


def form_errors_add(form: forms.BaseForm, error: ValidationError) -> None:
    """Show a service's ``ValidationError`` on ``form``: per field where the form has it."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


class ServiceWriteAdminMixin:
    """A model admin that writes through its services, never with ``obj.save()``.

    ``service_save`` returns the saved object; its values are copied onto the
    admin's ``obj`` so the admin's log, message and redirect name the row the
    service wrote. ``service_delete`` deletes one row.
    """

    def service_save(self, request, obj, form, change):
        raise NotImplementedError

    def service_delete(self, request, obj) -> None:
        raise NotImplementedError

    def save_model(self, request, obj, form, change):
        saved = self.service_save(request, obj, form, change)
        for field in obj._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))

    def delete_model(self, request, obj):
        self.service_delete(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.service_delete(request, obj)
