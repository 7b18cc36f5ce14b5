"""API entry points of members: sign-up, lists and manual reassignment."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from apps.core.api import IsHQOrIntegration
from apps.core.roles import Role, user_has_role
from apps.core.scoping import scope_for_request
from apps.core.throttling import MemberSignUpThrottle
from apps.customers.filters import MembershipFilter
from apps.customers.selectors import membership_list
from apps.customers.serializers import (
    MemberJoinSerializer,
    MembershipReassignSerializer,
    MembershipSerializer,
)
from apps.customers.services import member_join, membership_reassign


class MembershipViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Members of brands. POST joins a brand; assignment follows on a worker.

    Sign-ups come from integrations (mini-program, H5 and POS backends, which
    carry a QR code's store and guide) and HQ operations; a guide or manager
    cannot sign members up through the API, so cannot bind a shopper, and the
    commission of their orders, to a guide of their choosing.
    """

    serializer_class = MembershipSerializer
    filterset_class = MembershipFilter
    ordering_fields = ["joined_at", "bound_at", "distance_km"]

    def get_queryset(self):
        return membership_list(scope=self._scope())

    def get_permissions(self):
        if self.action == "create":
            return [IsHQOrIntegration()]
        return super().get_permissions()

    def get_throttles(self):
        if self.action == "create":
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
        result = member_join(**join.validated_data)
        answer = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        readable = self._readable(result.membership)
        if readable is None:
            return Response({"detail": _("The phone number is a member of this brand.")}, answer)
        return Response(self.get_serializer(readable).data, status=answer)

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
            raise PermissionDenied("Only HQ, or a manager of the guide's store, can move members.")
        membership = membership_reassign(membership=membership, guide=guide, actor=request.user)
        return Response(self.get_serializer(membership).data)
