"""The OpenAPI schema documents the errors every endpoint can answer, not only success.

A client generated from the schema, and the schema fuzz test in the suite,
rely on every status the API can send being declared with its body shape.
"""

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiResponse
from rest_framework import permissions, serializers

VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": "Field name (or ``non_field_errors``) to its messages; a nested "
    "field carries its own object or a list of them. An unreadable body answers "
    "``detail`` instead.",
    "additionalProperties": {
        "anyOf": [
            {"type": "array", "items": {}},
            {"type": "object"},
            {"type": "string"},
        ]
    },
}


class ErrorDetailSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, for a person to read.")


class PhoneFieldExtension(OpenApiSerializerFieldExtension):
    """Requests carry the full number (pattern checked); responses may carry it masked."""

    target_class = "apps.core.api.PhoneField"

    def map_serializer_field(self, auto_schema, direction):
        if direction == "response":
            return {
                "type": "string",
                "description": "Masked as 138****5678 unless the caller is HQ.",
            }
        return {"type": "string", "pattern": self.target.PATTERN}


class ScrmAutoSchema(AutoSchema):
    """drf-spectacular's schema plus the error responses of DRF and this project.

    400 where the request has a body, query or path parameters, 401 and 403 where a
    login is needed, 404 where a path names a row or a list pages, 429 where the
    view is throttled.
    """

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
                self._validation_error_ref(), description="Invalid input."
            )
        if self._needs_login():
            errors["401"] = OpenApiResponse(
                ErrorDetailSerializer, description="No credentials, or credentials not valid."
            )
            errors["403"] = OpenApiResponse(
                ErrorDetailSerializer, description="The caller's role may not do this."
            )
        if "{" in self.path or (
            self.method == "GET" and self._is_list_view() and self._get_paginator()
        ):
            errors["404"] = OpenApiResponse(
                ErrorDetailSerializer,
                description="No such row in the caller's scope, or no such page.",
            )
        if self.view.get_throttles():
            errors["429"] = OpenApiResponse(
                ErrorDetailSerializer,
                description="Too many requests; the ``Retry-After`` header says how many "
                "seconds to wait.",
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
