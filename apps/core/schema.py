"""The OpenAPI schema documents the errors every endpoint can answer, not only success.

A client generated from the schema, and the schema fuzz test in the suite,
rely on every status the API can send being declared with its body shape.
"""

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import permissions, serializers

VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": _(
        "Field name (or ``non_field_errors``) to its messages; a nested field carries its "
        "own object or a list of them. An unreadable body answers ``detail`` instead."
    ),
    "additionalProperties": {
        "anyOf": [
            {"type": "array", "items": {}},
            {"type": "object"},
            {"type": "string"},
        ]
    },
}


# Fields named alike mean alike in every answer and request; a serializer's
# own ``help_text`` says more where a field needs it.
FIELD_GLOSSARY = {
    "id": _("Numeric id the server gave the row; stable, never reused."),
    "brand": _("Brand code, e.g. AUR."),
    "store": _("Store code, e.g. SH01 (null: none)."),
    "guide": _("Guide's employee no., e.g. E0001 (null: none)."),
    "region": _("Region code, e.g. EAST (null: none)."),
    "created_at": _("When the row was written: ISO 8601 with its UTC offset."),
    "updated_at": _("When the row last changed: ISO 8601 with its UTC offset."),
}

# Path parameters, by name.
PATH_PARAMETERS = {
    "id": _("Numeric id of the row, as lists answer it."),
    "code": _("The row's business code, e.g. AUR, EAST or SH01."),
    "employee_no": _("The guide's employee no., e.g. E0001."),
    "order_no": _("The order's number as the POS or shop sent it."),
}


class ErrorDetailSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text=_("What went wrong, for a person to read."))


class PhoneFieldExtension(OpenApiSerializerFieldExtension):
    """Requests carry the full number (pattern checked); responses may carry it masked."""

    target_class = "apps.core.api.PhoneField"

    def map_serializer_field(self, auto_schema, direction):
        if direction == "response":
            return {
                "type": "string",
                "description": str(_("Masked as 138****5678 unless the caller is HQ.")),
            }
        return {
            "type": "string",
            "pattern": self.target.PATTERN,
            "description": str(_("The number in full: digits, +86, spaces or dashes.")),
        }


class ScrmAutoSchema(AutoSchema):
    """drf-spectacular's schema plus the error responses of DRF and this project.

    400 where the request has a body, query or path parameters, 401 and 403 where a
    login is needed, 404 where a path names a row or a list pages, 429 where the
    view is throttled.
    """

    def _get_serializer_field_meta(self, field, direction):
        meta = super()._get_serializer_field_meta(field, direction)
        if "description" not in meta and getattr(field, "field_name", None) in FIELD_GLOSSARY:
            meta["description"] = str(FIELD_GLOSSARY[field.field_name])
        return meta

    def _map_basic_serializer(self, serializer, direction):
        # A serializer's docstring is written for this code's maintainers, not for
        # integrators: the schema describes its fields and operations instead.
        schema = super()._map_basic_serializer(serializer, direction)
        schema.pop("description", None)
        return schema

    def _resolve_path_parameters(self, variables):
        parameters = super()._resolve_path_parameters(variables)
        for parameter in parameters:
            if not parameter.get("description") and parameter["name"] in PATH_PARAMETERS:
                parameter["description"] = str(PATH_PARAMETERS[parameter["name"]])
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for status_code, response in self._error_responses().items():
            responses.setdefault(
                status_code, self._get_response_for_code(response, status_code, direction=direction)
            )
        return responses

    def _error_responses(self) -> dict[str, OpenApiResponse | dict]:
        errors: dict[str, OpenApiResponse | dict] = {}
        if self._has_input():
            errors["400"] = OpenApiResponse(
                self._validation_error_ref(), description=_("Invalid input.")
            )
        if self._needs_login():
            errors["401"] = OpenApiResponse(
                ErrorDetailSerializer, description=_("No credentials, or credentials not valid.")
            )
            errors["403"] = OpenApiResponse(
                ErrorDetailSerializer, description=_("The caller's role may not do this.")
            )
        if "{" in self.path or (
            self.method == "GET" and self._is_list_view() and self._get_paginator()
        ):
            errors["404"] = OpenApiResponse(
                ErrorDetailSerializer,
                description=_("No such row in the caller's scope, or no such page."),
            )
        if self.view.get_throttles():
            errors["429"] = OpenApiResponse(
                ErrorDetailSerializer,
                description=_(
                    "Too many requests; the ``Retry-After`` header says how many seconds to wait."
                ),
            )
        return errors

    def _has_input(self) -> bool:
        if self.method in ("POST", "PUT", "PATCH"):
            return True
        # A path parameter is input too: one with a NUL character answers 400
        # (apps.core.middleware).
        return any(
            parameter.get("in") in ("query", "path")
            for parameter in self._get_parameters()
            if isinstance(parameter, dict)
        )

    def _needs_login(self) -> bool:
        return any(
            not isinstance(permission, permissions.AllowAny)
            for permission in self.view.get_permissions()
        )

    def _validation_error_ref(self) -> dict:
        component = ResolvedComponent(
            name="ValidationError",
            type=ResolvedComponent.SCHEMA,
            schema=VALIDATION_ERROR_SCHEMA,
            object="ValidationError",
        )
        self.registry.register_on_missing(component)
        return component.ref


def write_examples(request: dict | None, answer: dict, *, status: str = "201") -> list:
    """Return one example request (when the operation has a body) and its answer."""
    examples = [OpenApiExample("Answer", value=answer, response_only=True, status_codes=[status])]
    if request is not None:
        examples.insert(0, OpenApiExample("Request", value=request, request_only=True))
    return examples


# Who may call what, said the same way in every operation's description.
READ_ANY_ROLE = _("Any signed-in role may read; answers keep to the caller's scope.")
WRITE_HQ_INTEGRATION = _("HQ operations and integrations only; other roles get 403.")
HQ_ONLY = _("HQ operations only; other roles get 403.")


NO_DELETE = _("Master data is deactivated, never deleted: there is no DELETE.")


def master_data_schema(*, plural, singular, created, replaced, changed, create, answer, change):
    """Describe a master-data viewset's operations, with an example per write."""
    return extend_schema_view(
        list=extend_schema(description=format_lazy("{} {}", plural, READ_ANY_ROLE)),
        retrieve=extend_schema(description=format_lazy("{} {}", singular, READ_ANY_ROLE)),
        create=extend_schema(
            description=format_lazy("{} {} {}", created, WRITE_HQ_INTEGRATION, NO_DELETE),
            examples=write_examples(create, answer),
        ),
        update=extend_schema(
            description=format_lazy("{} {} {}", replaced, WRITE_HQ_INTEGRATION, NO_DELETE),
            examples=write_examples(create, answer, status="200"),
        ),
        partial_update=extend_schema(
            description=format_lazy("{} {} {}", changed, WRITE_HQ_INTEGRATION, NO_DELETE),
            examples=write_examples(change, {**answer, **change}, status="200"),
        ),
    )
