"""API entry points of members: sign-up, lists and manual reassignment."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from apps.core.api import IsHQ, IsHQOrIntegration
from apps.core.batches import BatchInputSerializer, BatchResultSerializer, batch_answer
from apps.core.batches import batch_validate as batch_items_validate
from apps.core.listing import ListDate
from apps.core.roles import Role, user_has_role
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
    list_date = ListDate("joined_at", gettext_lazy("the day the member joined the brand"))

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
            context["mask_phones"] = self._scope().masks_phones
            context["hide_location"] = not self._scope().everything
        return context

    @extend_schema(
        request=MemberJoinSerializer,
        responses={201: MembershipSerializer, 200: MembershipSerializer},
    )
    def create(self, request, *args, **kwargs):
        join = MemberJoinSerializer(data=request.data)
        join.is_valid(raise_exception=True)
        result = member_join_with_consent(**join.validated_data, captured_by=request.user)
        answer = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        readable = self._readable(result.membership)
        if readable is None:
            return Response({"detail": _("The phone number is a member of this brand.")}, answer)
        return Response(self.get_serializer(readable).data, status=answer)

    @extend_schema(
        request=BatchInputSerializer,
        responses={200: BatchResultSerializer},
        description="Up to 1,000 sign-ups (more is a 400), each as POST /api/v1/members/ takes "
        "it. Answers 200 with every item's outcome in order: created, replayed (the phone is "
        "already a member of the brand: the existing membership) or invalid (with field "
        "messages); a bad item never holds back the others. Items are written in chunks that "
        "commit on their own: after an interrupted request, send the same batch again.",
    )
    @action(detail=False, methods=["post"])
    def batch(self, request):
        outcomes, valid = batch_items_validate(request.data, serializer_class=MemberJoinSerializer)
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

    @extend_schema(request=MembershipReassignSerializer, responses={200: MembershipSerializer})
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

    @extend_schema(request=None, responses={200: MembershipSerializer})
    @action(detail=True, methods=["post"], url_path="withdraw-consent")
    def withdraw_consent(self, request, pk=None):
        """Withdraw the member's consent (HQ, integrations): follow-ups stop, lists omit them."""
        membership = membership_consent_withdraw(membership=self.get_object(), actor=request.user)
        return Response(self.get_serializer(membership).data)

    @extend_schema(request=None, responses={200: MembershipSerializer})
    @action(detail=True, methods=["post"])
    def erase(self, request, pk=None):
        """Erase the member's personal information for this brand (HQ); the ledger stays."""
        membership = membership_erase(membership=self.get_object(), actor=request.user)
        return Response(self.get_serializer(membership).data)


def _join_fields(data: dict) -> dict:
    """A sign-up's fields without its consent, which the batch service checks per item."""
    return {field: value for field, value in data.items() if field != "consent_notice"}
