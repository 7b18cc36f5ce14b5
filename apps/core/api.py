"""Pieces every API of the project shares: errors, permissions, fields."""

import re

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, mixins, permissions, serializers, viewsets
from rest_framework.views import exception_handler as drf_exception_handler

from apps.core.batches import MemoSlugRelatedField
from apps.core.geo import CoordSystem, coordinates_are_valid, is_failed_fix, to_wgs84
from apps.core.listing import query_params_refuse_unknown
from apps.core.parsers import RequestBodyTooLarge
from apps.core.roles import Role, user_has_role
from apps.core.scoping import scope_for_request, scope_queryset


def exception_handler(exc, context):
    """Turn a service's Django ValidationError into a 400 naming the fields.

    A body over Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is a 413, in JSON
    like every other answer of the API.
    """
    if isinstance(exc, RequestDataTooBig):
        exc = RequestBodyTooLarge()
    if isinstance(exc, Http404):
        # Django's "No Order matches the given query." is neither translated
        # nor helpful; a row out of the caller's scope looks missing too.
        exc = exceptions.NotFound(_("Not found: no such row, or not one you may read."))
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            detail = {field: [str(m) for m in msgs] for field, msgs in exc.message_dict.items()}
            if "__all__" in detail:
                detail["non_field_errors"] = detail.pop("__all__")
        else:
            detail = {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail=detail)
    return drf_exception_handler(exc, context)


class Conflict(exceptions.APIException):
    status_code = 409
    default_detail = _("The resource exists with different content.")
    default_code = "conflict"


class ChoiceField(serializers.ChoiceField):
    """A choice whose error lists the valid values (``ModelSerializer`` uses it too)."""

    default_error_messages = {
        "invalid_choice": _("'{input}' is not a valid choice. Choose from: {choices}.")
    }

    def to_internal_value(self, data):
        if data == "" and self.allow_blank:
            return ""
        try:
            return self.choice_strings_to_values[str(data)]
        except KeyError:
            self.fail(
                "invalid_choice",
                input=str(data)[:64],
                choices=", ".join(self.choice_strings_to_values),
            )


def code_field(model, *, slug_field: str, unknown: str, cache_lookups: bool = False, **kwargs):
    """A row named by its business code; an unknown one is "Unknown brand code 'ZZZ'.".

    Read from a batch's memo or, with ``cache_lookups``, the lookup cache
    (``apps.core.batches.MemoSlugRelatedField``).
    """
    return MemoSlugRelatedField(
        slug_field=slug_field,
        queryset=model.objects.all(),
        cache_lookups=cache_lookups,
        error_messages={
            "does_not_exist": unknown,
            "invalid": _("Enter the code as text."),
        },
        **kwargs,
    )


class IsHQOrReadOnly(permissions.BasePermission):
    """Reads for any signed-in role; writes for HQ operations and integrations."""

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        return user_has_role(request.user, Role.HQ_OPS, Role.INTEGRATION)


class IsHQOrIntegration(permissions.BasePermission):
    """HQ operations and integrations (POS, e-commerce, mini-program backends) only."""

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated) and user_has_role(
            request.user, Role.HQ_OPS, Role.INTEGRATION
        )


class IsHQ(permissions.BasePermission):
    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated) and user_has_role(
            request.user, Role.HQ_OPS
        )


class PhoneField(serializers.CharField):
    """A phone number written in full and read back masked (``138****5678``) unless HQ reads it.

    The serializer masks in ``to_representation``. The pattern is checked here
    rather than by a validator so that the schema (``apps.core.schema``) can
    state it for requests only: a masked number does not match it.
    """

    PATTERN = r"^\+?[0-9][0-9 \-]{5,19}$"
    default_error_messages = {"invalid": _("Enter a phone number: digits, spaces or dashes.")}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not re.match(self.PATTERN, value):
            self.fail("invalid")
        return value


def coord_system_field() -> serializers.ChoiceField:
    return ChoiceField(
        choices=[c.value for c in CoordSystem],
        default=CoordSystem.WGS84.value,
        write_only=True,
        help_text=_(
            "Coordinate system of the latitude and longitude sent: wgs84 (GPS, the default), "
            "gcj02 (Amap, Tencent, WeChat) or bd09 (Baidu). They are converted and stored "
            "as WGS-84."
        ),
    )


FAILED_FIX_MESSAGE = _(
    "(0, 0) is what a failed GPS fix reports, not a location: send no location instead."
)


def location_to_wgs84(attrs: dict) -> dict:
    """Validate that latitude and longitude come together and convert them to WGS-84.

    Removes ``coord_system`` from ``attrs``; raises a field-level error when
    only one of the two coordinates is given, or both are exactly 0.
    """
    coord_system = attrs.pop("coord_system", CoordSystem.WGS84.value)
    has_lat, has_lng = attrs.get("latitude") is not None, attrs.get("longitude") is not None
    if has_lat != has_lng:
        missing = "longitude" if has_lat else "latitude"
        raise serializers.ValidationError({missing: _("Give latitude and longitude together.")})
    if has_lat:
        if is_failed_fix(attrs["latitude"], attrs["longitude"]):
            raise serializers.ValidationError({"latitude": FAILED_FIX_MESSAGE})
        lat, lng = to_wgs84(attrs["latitude"], attrs["longitude"], coord_system)
        if not coordinates_are_valid(lat, lng):
            raise serializers.ValidationError({"latitude": _("Coordinates out of range.")})
        attrs["latitude"], attrs["longitude"] = round(lat, 7), round(lng, 7)
    return attrs


class MasterDataViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Master data is deactivated, never deleted: no DELETE.

    Set ``scoped`` to narrow reads to the caller's scope (``scope_store_path``
    and ``scope_guide_path`` as ``scope_queryset`` takes them): a row out of
    scope answers 404, as if it did not exist.
    """

    permission_classes = [IsHQOrReadOnly]
    create_service = None
    update_service = None
    instance_kwarg = None
    scoped = False
    scope_store_path: str | None = "store"
    scope_guide_path: str | None = "guide"

    def get_queryset(self):
        queryset = super().get_queryset()
        if not self.scoped:
            return queryset
        return scope_queryset(
            queryset,
            scope_for_request(self.request),
            store_field=self.scope_store_path,
            guide_field=self.scope_guide_path,
        )

    def get_serializer_context(self):
        context = super().get_serializer_context()
        request = getattr(self, "request", None)
        if request is not None and request.user.is_authenticated:
            context["mask_phones"] = scope_for_request(request).masks_phones
        return context

    def perform_create(self, serializer):
        serializer.instance = self.create_service(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = self.update_service(
            **{self.instance_kwarg: serializer.instance}, **serializer.validated_data
        )


def query_params_check(request, allowed) -> None:
    """Refuse a list query naming a parameter the endpoint does not take (400 naming it).

    A misspelt filter would otherwise be ignored and answer every row.
    """
    query_params_refuse_unknown(request, set(allowed) | {"page", "page_size", "format"})
