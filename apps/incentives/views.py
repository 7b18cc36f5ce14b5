"""API entry points of the incentives app: validate, call a service or selector, answer."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api import IsHQ
from apps.core.listing import ListDate
from apps.core.roles import Role, user_has_role
from apps.core.scoping import scope_for_request
from apps.incentives import selectors, services
from apps.incentives.filters import PointsAccountFilter, SalesTargetFilter
from apps.incentives.serializers import (
    BonusPlanSerializer,
    PointsAccountSerializer,
    PointsMovementSerializer,
    PointsRedeemSerializer,
    SalesTargetImportSerializer,
    SalesTargetInputSerializer,
    SalesTargetSerializer,
)


class SetsTargets(permissions.BasePermission):
    """Reads for every signed-in role (scoped); writes for HQ and region managers."""

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        return user_has_role(request.user, Role.HQ_OPS, Role.REGION_MANAGER)


class SalesTargetViewSet(viewsets.ReadOnlyModelViewSet):
    """Monthly targets with live progress (net sales, achievement, bracket, projected bonus).

    Scoped like commission entries: guides see their own, store managers their
    store's, region managers their regions', HQ everything.
    """

    serializer_class = SalesTargetSerializer
    permission_classes = [SetsTargets]
    filterset_class = SalesTargetFilter
    ordering_fields = ["month", "amount", "id"]
    list_date = ListDate("month", _("the target's month (its first day)"))

    def get_queryset(self):
        return selectors.sales_target_list(scope=scope_for_request(self.request))

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "progress": getattr(self, "_progress", {})}

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        rows = page if page is not None else list(queryset)
        self._progress = {p.target.pk: p for p in selectors.target_progress(targets=list(rows))}
        return page

    @extend_schema(
        request=SalesTargetInputSerializer,
        responses={201: SalesTargetSerializer},
    )
    def create(self, request):
        """Set a guide's or a store's target for a month (replaces one not yet closed)."""
        body = SalesTargetInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        target = services.sales_target_set(
            scope=scope_for_request(request), actor=request.user, **body.validated_data
        )
        self._progress = {p.target.pk: p for p in selectors.target_progress(targets=[target])}
        return Response(
            SalesTargetSerializer(target, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        request=SalesTargetImportSerializer,
        responses={
            200: inline_serializer("TargetImportDone", {"imported": serializers.IntegerField()}),
        },
    )
    @action(detail=False, methods=["post"], url_path="import")
    def import_csv(self, request):
        """Import targets from CSV: every row or none.

        A file with errors imports nothing and answers 400 with ``errors``, a
        list of ``{"line", "column", "message"}`` (the header is line 1).
        """
        body = SalesTargetImportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            count = services.sales_targets_import(
                scope=scope_for_request(request), actor=request.user,
                csv_text=body.validated_data["csv"],
            )  # fmt: skip
        except services.TargetImportError as exc:
            return Response(
                {"errors": [e.as_dict() for e in exc.errors]}, status=status.HTTP_400_BAD_REQUEST
            )
        return Response({"imported": count})


class ReadsOrHQWrites(permissions.BasePermission):
    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        return user_has_role(request.user, Role.HQ_OPS)


class BonusPlanViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin, viewsets.GenericViewSet,
):  # fmt: skip
    """Bonus plans: HQ writes; others read the plans of their stores' brands.

    A plan that has paid a bonus keeps its brackets, cap, basis, scope and
    first month (a change is a 400 naming the fields): end it with
    ``valid_to`` and add another.
    """

    serializer_class = BonusPlanSerializer
    permission_classes = [ReadsOrHQWrites]
    filterset_fields = ["beneficiary", "basis"]
    ordering_fields = ["valid_from", "id"]
    list_date = ListDate(
        "valid_from",
        _("the months the plan is valid (it overlaps the range)"),
        end_field="valid_to",
    )

    def get_queryset(self):
        return selectors.bonus_plan_list(scope=scope_for_request(self.request))

    def perform_create(self, serializer):
        serializer.instance = services.bonus_plan_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.bonus_plan_update(
            plan=serializer.instance, **serializer.validated_data
        )


class PointsAccountViewSet(viewsets.ReadOnlyModelViewSet):
    """Guides' points per brand with their rank in the store; HQ redeems."""

    serializer_class = PointsAccountSerializer
    filterset_class = PointsAccountFilter
    ordering_fields = ["balance", "id"]
    list_date = None  # a balance carries no date; its movements do

    def get_queryset(self):
        return selectors.points_account_list(scope=scope_for_request(self.request))

    @extend_schema(responses={200: PointsMovementSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def movements(self, request, pk=None):
        """The account's movements, newest first: who moved the points and why."""
        account = self.get_object()
        page = self.paginate_queryset(account.movements.select_related("actor"))
        return self.get_paginated_response(PointsMovementSerializer(page, many=True).data)

    @extend_schema(
        request=PointsRedeemSerializer,
        responses={201: PointsMovementSerializer, 200: PointsMovementSerializer},
    )
    @action(detail=False, methods=["post"], permission_classes=[IsHQ])
    def redeem(self, request):
        """Redeem a guide's points (HQ); refused when the balance would go below zero."""
        body = PointsRedeemSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        movement, created = services.points_redeem(**body.validated_data, actor=request.user)
        return Response(
            PointsMovementSerializer(movement).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
