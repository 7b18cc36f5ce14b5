"""API entry points of guides."""

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api import IsHQ, MasterDataViewSet
from apps.core.listing import ListDate
from apps.core.schema import HQ_ONLY, master_data_schema, write_examples
from apps.guides import services
from apps.guides.filters import GuideFilter
from apps.guides.logins import guide_set_password_link
from apps.guides.models import Guide
from apps.guides.serializers import (
    GuideSerializer,
    SetPasswordLinkRequestSerializer,
    SetPasswordLinkSerializer,
)

GUIDE = {
    "employee_no": "E0001",
    "name": "李娜",
    "phone": "13812345678",
    "store": "SH01",
    "role": "guide",
    "is_active": True,
}
GUIDE_ANSWER = {
    **GUIDE,
    "phone": "138****5678",
    "user": "E0001",
    "created_at": "2026-03-10T10:30:00+08:00",
    "updated_at": "2026-03-10T10:30:00+08:00",
}


@master_data_schema(
    plural=_(
        "Guides and store managers (filters: store, brand, role, is_active; search: "
        "employee no. or name)."
    ),
    singular=_("One guide, by employee no."),
    created=_(
        "Add a guide with their login; the answer also carries ``set_password_url``, a "
        "one-time link to set the password (give it only to the guide)."
    ),
    replaced=_("Replace a guide's fields (the employee no. stays)."),
    changed=_("Change some of a guide's fields; ``is_active: false`` when they leave."),
    create=GUIDE,
    answer={**GUIDE_ANSWER, "set_password_url": "https://scrm.example.com/set-password/Mg/abc123/"},
    change={"is_active": False},
)
class GuideViewSet(MasterDataViewSet):
    queryset = Guide.objects.select_related("store", "user")
    serializer_class = GuideSerializer
    filterset_class = GuideFilter
    lookup_field = "employee_no"
    lookup_value_regex = "[^/]+"
    search_fields = ["employee_no", "name"]
    ordering_fields = ["employee_no", "name", "created_at"]
    list_date = ListDate("created_at", _("the day the guide record was created"))
    create_service = staticmethod(services.guide_create)
    update_service = staticmethod(services.guide_update)
    instance_kwarg = "guide"
    scoped = True
    scope_guide_path = "pk"

    def create(self, request, *args, **kwargs):
        """Create a guide with their login; the answer carries a one-time set-password link."""
        response = super().create(request, *args, **kwargs)
        guide = Guide.objects.get(employee_no=response.data["employee_no"])
        link = guide_set_password_link(guide=guide, base_url=request.build_absolute_uri("/"))
        response.data["user"] = link.username
        response.data["set_password_url"] = link.url
        return response

    @extend_schema(
        request=SetPasswordLinkRequestSerializer,
        responses=SetPasswordLinkSerializer,
        description=format_lazy(
            "{} {}",
            _(
                "Make the guide's login if missing and answer a one-time set-password link "
                "(with ``send_sms``, also text it to the guide's phone)."
            ),
            HQ_ONLY,
        ),
        examples=write_examples(
            {"send_sms": True},
            {
                "username": "E0001",
                "url": "https://scrm.example.com/set-password/Mg/abc123/",
                "expires_at": "2026-03-13T10:30:00+08:00",
                "sent_by_sms": True,
            },
            status="200",
        ),
    )
    @action(detail=True, methods=["post"], url_path="login-link", permission_classes=[IsHQ])
    def login_link(self, request, employee_no=None):
        """Make the guide's login if missing; answer a one-time set-password link (or text it)."""
        guide = self.get_object()
        body = SetPasswordLinkRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        link = guide_set_password_link(
            guide=guide,
            base_url=request.build_absolute_uri("/"),
            send_sms=body.validated_data["send_sms"],
        )
        return Response(SetPasswordLinkSerializer(link).data, status=status.HTTP_200_OK)
