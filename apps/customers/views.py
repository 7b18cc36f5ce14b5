"""API entry points of members: sign-up, lists and manual reassignment."""

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from apps.core.api import IsHQ, IsHQOrIntegration
from apps.core.batches import BatchInputSerializer, BatchResultSerializer, batch_answer
from apps.core.batches import batch_validate as batch_items_validate
from apps.core.listing import ListDate
from apps.core.roles import Role, user_has_role
from apps.core.schema import HQ_ONLY, READ_ANY_ROLE, WRITE_HQ_INTEGRATION, write_examples
from apps.core.scoping import scope_for_request
from apps.core.throttling import MemberSignUpThrottle
from apps.customers.filters import MembershipFilter
from apps.customers.models import PersonalDataAccess
from apps.customers.selectors import membership_list
from apps.customers.serializers import (
    MemberJoinSerializer,
    MembershipReassignSerializer,
    MembershipSerializer,
)
from apps.customers.services import (
    JoinInput,
    member_join_with_consent,
    members_join_with_consent,
    membership_consent_withdraw,
    membership_erase,
    membership_reassign,
    personal_data_access_record,
)

SIGN_UP = {
    "brand": "AUR",
    "phone": "+86 138-1234-5678",
    "name": "韩梅梅",
    "latitude": 31.22863,
    "longitude": 121.47812,
    "coord_system": "gcj02",
    "consent_notice": "2026-01",
}
MEMBER = {
    "id": 42,
    "brand": "AUR",
    "phone": "13812345678",
    "name": "韩梅梅",
    "store": None,
    "guide": None,
    "assignment_status": "pending",
    "unassigned_reason": "",
    "distance_km": None,
    "latitude": 31.2305006,
    "longitude": 121.4737689,
    "coord_system": "wgs84",
    "source": "mini_program",
    "joined_at": "2026-03-10T10:30:00+08:00",
    "bound_at": None,
}
MEMBER_ASSIGNED = {
    **MEMBER,
    "phone": "138****5678",
    "store": "SH01",
    "guide": "E0001",
    "assignment_status": "assigned",
    "distance_km": 0.4,
    "latitude": None,
    "longitude": None,
    "bound_at": "2026-03-10T10:30:02+08:00",
}


@extend_schema_view(
    list=extend_schema(
        description=format_lazy(
            "{} {}",
            _(
                "Members of brands (filters: brand, store, guide, status, unassigned_reason, "
                "source, phone: the full number in any accepted form). Members who withdrew "
                "consent are left out for all but HQ."
            ),
            READ_ANY_ROLE,
        )
    ),
    retrieve=extend_schema(
        description=format_lazy("{} {}", _("One member of a brand, by id."), READ_ANY_ROLE)
    ),
)
class MembershipViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Members of brands. POST joins a brand; assignment follows on a worker.

    Sign-ups come from integrations (mini-program, H5 and POS backends, which
    carry a QR code's store and guide) and HQ operations; a guide or manager
    cannot sign members up through the API, so cannot bind a shopper, and the
    commission of their orders, to a guide of their choosing.
    """

    serializer_class = MembershipSerializer
    filterset_class = MembershipFilter
    ordering_fields = ["joined_at", "bound_at", "distance_km", "id"]
    list_date = ListDate("joined_at", _("the day the member joined the brand"))

    def get_queryset(self):
        return membership_list(scope=self._scope())

    def get_permissions(self):
        if self.action in ("create", "batch", "withdraw_consent"):
            return [IsHQOrIntegration()]
        if self.action == "erase":
            return [IsHQ()]
        return super().get_permissions()

    def get_serializer(self, *args, **kwargs):
        serializer = super().get_serializer(*args, **kwargs)
        if args and not self.get_serializer_context().get("mask_phones", True):
            rows = list(args[0]) if kwargs.get("many") else [args[0]]
            self._access_record(rows)
        return serializer

    def _access_record(self, memberships) -> None:
        """Log the full numbers this response shows (erased members have none left)."""
        shown = [m for m in memberships if m.customer.erased_at is None]
        personal_data_access_record(
            actor=self.request.user,
            kind=PersonalDataAccess.Kind.API,
            where=f"{self.request.method} {self.request.path}",
            customer_ids=[m.customer_id for m in shown],
            filters=self.request.query_params.dict(),
            row_count=len(shown),
        )

    def get_throttles(self):
        # A batch counts as one request: its items are limited by BATCH_MAX_ITEMS.
        if self.action in ("create", "batch"):
            return [MemberSignUpThrottle()]
        return super().get_throttles()

    def _scope(self):
        return scope_for_request(self.request)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self, "request", None) is not None and self.request.user.is_authenticated:
            scope = self._scope()
            context["mask_phones"] = scope.masks_phones
            # Locations are HQ's to read (README, "Personal information").
            context["hide_location"] = not scope.everything or scope.masks_phones
        context["sent_by_caller"] = getattr(self, "sent_by_caller", None)
        return context

    @extend_schema(
        request=MemberJoinSerializer,
        responses={201: MembershipSerializer, 200: MembershipSerializer},
        description=format_lazy(
            "{} {}",
            _(
                "Sign a shopper up with a brand. Keyed by brand and phone: 201 with the new "
                "membership (``assignment_status: pending``; the nearest store and guide follow "
                "on a worker within seconds), or 200 with the existing one when the phone is "
                "already a member. The answer shows the phone the caller sent in full and "
                "locations in WGS-84 (``coord_system``); the rest is shown as the caller's role "
                "reads it."
            ),
            WRITE_HQ_INTEGRATION,
        ),
        examples=[
            *write_examples(SIGN_UP, MEMBER),
            *write_examples(None, {**MEMBER, "latitude": None, "longitude": None}, status="200"),
        ],
    )
    def create(self, request, *args, **kwargs):
        join = MemberJoinSerializer(data=request.data)
        join.is_valid(raise_exception=True)
        self.sent_by_caller = _sent_by_caller([join.validated_data])
        result = member_join_with_consent(**join.validated_data, captured_by=request.user)
        answer = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        readable = self._readable(result.membership)
        if readable is None:
            return Response({"detail": _("The phone number is a member of this brand.")}, answer)
        return Response(self.get_serializer(readable).data, status=answer)

    @extend_schema(
        request=BatchInputSerializer,
        responses={200: BatchResultSerializer},
        description=format_lazy(
            "{} {}",
            _(
                "Up to 1,000 sign-ups (more is a 400), each as POST /api/v1/members/ takes "
                "it. Answers 200 with every item's outcome in order: created, replayed (the "
                "phone is already a member of the brand: the existing membership) or invalid "
                "(with field messages); a bad item never holds back the others. Items are "
                "written in chunks that commit on their own: after an interrupted request, "
                "send the same batch again."
            ),
            WRITE_HQ_INTEGRATION,
        ),
        examples=write_examples(
            {"items": [SIGN_UP, {"brand": "AUR", "phone": "1381234"}]},
            {
                "created": 1,
                "replayed": 0,
                "conflict": 0,
                "invalid": 1,
                "items": [
                    {"index": 0, "status": "created", "result": MEMBER},
                    {
                        "index": 1,
                        "status": "invalid",
                        "errors": {"phone": ["Enter a mainland mobile number, e.g. 13812345678."]},
                    },
                ],
            },
            status="200",
        ),
    )
    @action(detail=False, methods=["post"])
    def batch(self, request):
        outcomes, valid = batch_items_validate(request.data, serializer_class=MemberJoinSerializer)
        self.sent_by_caller = _sent_by_caller([data for _index, data in valid])
        joined = members_join_with_consent(
            joins=[JoinInput(**_join_fields(data)) for _index, data in valid],
            consent_notices=[data.get("consent_notice", "") for _index, data in valid],
            captured_by=request.user,
        )
        for (index, _data), outcome in zip(valid, joined, strict=True):
            outcomes[index] = outcome
        return Response(batch_answer(outcomes, self._represent_many))

    def _represent_many(self, memberships) -> list:
        """Answer each membership as a sign-up does: in full if the caller's scope reads it."""
        readable = self.get_queryset().in_bulk([membership.pk for membership in memberships])
        shown = self.get_serializer([readable[m.pk] for m in memberships if m.pk in readable],
                                    many=True).data  # fmt: skip
        by_id = {row["id"]: row for row in shown}
        hidden = {"detail": _("The phone number is a member of this brand.")}
        return [by_id.get(membership.pk, hidden) for membership in memberships]

    def _readable(self, membership):
        """Return ``membership`` if the caller's scope may read it (a re-join finds any), else None.

        Phones are masked by the serializer as for any read.
        """
        scope = self._scope()
        if scope.everything:
            return membership
        return self.get_queryset().filter(pk=membership.pk).first()

    @extend_schema(
        request=MembershipReassignSerializer,
        responses={200: MembershipSerializer},
        description=_(
            "Move a member to another guide and their store. HQ: anywhere; store and region "
            "managers: within their stores; other roles get 403."
        ),
        examples=write_examples(
            {"guide": "E0002"}, {**MEMBER_ASSIGNED, "guide": "E0002"}, status="200"
        ),
    )
    @action(detail=True, methods=["post"])
    def reassign(self, request, pk=None):
        """Move a member to another guide (HQ: anywhere; managers: within their stores)."""
        membership = self.get_object()
        body = MembershipReassignSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        guide = body.validated_data["guide"]
        is_hq = user_has_role(request.user, Role.HQ_OPS)
        in_scope = self._scope().covers_store(
            store_id=guide.store_id, region_id=guide.store.region_id
        )
        if not (is_hq or in_scope):
            raise PermissionDenied(
                _("Only HQ, or a manager of the guide's store, can move members.")
            )
        membership = membership_reassign(membership=membership, guide=guide, actor=request.user)
        return Response(self.get_serializer(membership).data)

    @extend_schema(
        request=None,
        responses={200: MembershipSerializer},
        description=format_lazy(
            "{} {}",
            _(
                "Withdraw the member's consent: open follow-ups are skipped and the member "
                "leaves every list but HQ's. Again is a no-op."
            ),
            WRITE_HQ_INTEGRATION,
        ),
        examples=write_examples(None, MEMBER_ASSIGNED, status="200"),
    )
    @action(detail=True, methods=["post"], url_path="withdraw-consent")
    def withdraw_consent(self, request, pk=None):
        """Withdraw the member's consent (HQ, integrations): follow-ups stop, lists omit them."""
        membership = membership_consent_withdraw(membership=self.get_object(), actor=request.user)
        return Response(self.get_serializer(membership).data)

    @extend_schema(
        request=None,
        responses={200: MembershipSerializer},
        description=format_lazy(
            "{} {}",
            _(
                "Erase the member's personal information for this brand (a PIPL deletion "
                "request): the phone becomes a pseudonym, location, notes and tags go; orders "
                "and the ledger stay. Cannot be undone."
            ),
            HQ_ONLY,
        ),
        examples=write_examples(
            None,
            {**MEMBER_ASSIGNED, "phone": "x4820193746", "name": "", "distance_km": None},
            status="200",
        ),
    )
    @action(detail=True, methods=["post"])
    def erase(self, request, pk=None):
        """Erase the member's personal information for this brand (HQ); the ledger stays."""
        membership = membership_erase(membership=self.get_object(), actor=request.user)
        return Response(self.get_serializer(membership).data)


def _sent_by_caller(joins: list[dict]) -> dict:
    """Map each normalised phone a sign-up sent to the WGS-84 location it sent with it.

    The answer echoes these to the caller who sent them, and nothing else it
    could not read otherwise: the rest of a member found again stays masked.
    """
    return {data["phone"]: (data.get("latitude"), data.get("longitude")) for data in joins}


def _join_fields(data: dict) -> dict:
    """A sign-up's fields without its consent, which the batch service checks per item."""
    return {field: value for field, value in data.items() if field != "consent_notice"}
