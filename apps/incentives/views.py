"""API entry points of the incentives app: validate, call a service or selector, answer."""

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api import IsHQ
from apps.core.listing import ListDate
from apps.core.roles import Role, user_has_role
from apps.core.schema import HQ_ONLY, write_examples
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

TARGET = {"brand": "AUR", "month": "2026-03", "store": None, "guide": "E0001",
          "amount": "50000.00"}  # fmt: skip
TARGET_ANSWER = {
    "id": 88,
    "brand": "AUR",
    "beneficiary": "guide",
    "store": "SH01",
    "guide": "E0001",
    "month": "2026-03-01",
    "amount": "50000.00",
    "net_sales": "41230.50",
    "achievement": "82.46",
    "brackets_reached": 0,
    "projected_bonus": "0.00",
    "bonus": None,
    "updated_at": "2026-03-20T09:00:00+08:00",
}
BONUS_PLAN = {
    "name": "三月冲刺奖",
    "brand": "AUR",
    "beneficiary": "guide",
    "store_kind": "",
    "store": None,
    "basis": "achievement",
    "brackets": [{"from": "100", "to": "120", "rate": "1"}, {"from": "120", "to": None,
                                                           "rate": "2"}],
    "cap": "5000.00",
    "valid_from": "2026-03",
    "valid_to": "2026-03",
}  # fmt: skip
BONUS_PLAN_ANSWER = {"id": 7, **BONUS_PLAN, "valid_from": "2026-03-01", "valid_to": "2026-03-01",
                     "specificity": 1, "created_at": "2026-02-20T10:00:00+08:00"}  # fmt: skip


class SetsTargets(permissions.BasePermission):
    """Reads for every signed-in role (scoped); writes for HQ and region managers."""

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        return user_has_role(request.user, Role.HQ_OPS, Role.REGION_MANAGER)


TARGET_READERS = _(
    "Guides see their own, store managers their store's, region managers their regions', HQ "
    "and integrations everything."
)
TARGET_WRITERS = _("HQ operations and region managers (their regions) only; others get 403.")
PLAN_RULE = _(
    "A plan that has paid a bonus keeps its brackets, cap, basis, scope and first month (a "
    "change is a 400 naming the fields): end it with ``valid_to`` and add another."
)


@extend_schema_view(
    list=extend_schema(
        description=format_lazy(
            "{} {}",
            _(
                "Monthly sales targets with live progress: net sales, achievement, brackets "
                "reached, projected bonus (filters: brand, beneficiary, month=YYYY-MM)."
            ),
            TARGET_READERS,
        )
    ),
    retrieve=extend_schema(
        description=format_lazy("{} {}", _("One target with its progress."), TARGET_READERS)
    ),
)
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
        examples=write_examples(TARGET, TARGET_ANSWER),
        description=format_lazy(
            "{} {}",
            _(
                "Set a guide's or a store's net sales target for a month (CNY decimal string); "
                "it replaces one not yet closed."
            ),
            TARGET_WRITERS,
        ),
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
            200: inline_serializer(
                "TargetImportDone",
                {"imported": serializers.IntegerField(help_text=_("Targets written."))},
            ),
        },
        description=format_lazy(
            "{} {}",
            _(
                "Import targets from CSV text, every row or none: a file with errors imports "
                "nothing and answers 400 with ``errors``, a list of {line, column, message} "
                "(the header is line 1)."
            ),
            TARGET_WRITERS,
        ),
        examples=write_examples(
            {
                "csv": "brand,month,store,guide,amount\nAUR,2026-03,SH01,,300000.00\n"
                "AUR,2026-03,,E0001,50000.00\n"
            },
            {"imported": 2},
            status="200",
        ),
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


@extend_schema_view(
    list=extend_schema(
        description=format_lazy(
            "{} {}",
            _(
                "Bonus plans: a bonus on a month's target achievement or net sales, in "
                "brackets, with a cap. Every signed-in role reads the plans of its stores' "
                "brands."
            ),
            PLAN_RULE,
        )
    ),
    retrieve=extend_schema(description=_("One bonus plan, for every role that may read it.")),
    create=extend_schema(
        description=format_lazy("{} {}", _("Add a bonus plan."), HQ_ONLY),
        examples=write_examples(BONUS_PLAN, BONUS_PLAN_ANSWER),
    ),
    update=extend_schema(
        description=format_lazy("{} {} {}", _("Replace a bonus plan."), PLAN_RULE, HQ_ONLY),
        examples=write_examples(BONUS_PLAN, BONUS_PLAN_ANSWER, status="200"),
    ),
    partial_update=extend_schema(
        description=format_lazy(
            "{} {} {}", _("Change some of a bonus plan's fields."), PLAN_RULE, HQ_ONLY
        ),
        examples=write_examples(
            {"name": "三月冲刺奖（加码）"},
            {**BONUS_PLAN_ANSWER, "name": "三月冲刺奖（加码）"},
            status="200",
        ),
    ),
)
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


@extend_schema_view(
    list=extend_schema(
        description=format_lazy(
            "{} {}",
            _("Guides' points per brand, with their rank in the store (filter: brand)."),
            TARGET_READERS,
        )
    ),
    retrieve=extend_schema(
        description=format_lazy("{} {}", _("One guide's points in a brand."), TARGET_READERS)
    ),
)
class PointsAccountViewSet(viewsets.ReadOnlyModelViewSet):
    """Guides' points per brand with their rank in the store; HQ redeems."""

    serializer_class = PointsAccountSerializer
    filterset_class = PointsAccountFilter
    ordering_fields = ["balance", "id"]
    list_date = None  # a balance carries no date; its movements do

    def get_queryset(self):
        return selectors.points_account_list(scope=scope_for_request(self.request))

    @extend_schema(
        responses={200: PointsMovementSerializer(many=True)},
        description=format_lazy(
            "{} {}",
            _("The account's movements, newest first: who moved the points and why."),
            TARGET_READERS,
        ),
    )
    @action(detail=True, methods=["get"])
    def movements(self, request, pk=None):
        """The account's movements, newest first: who moved the points and why."""
        account = self.get_object()
        page = self.paginate_queryset(account.movements.select_related("actor"))
        return self.get_paginated_response(PointsMovementSerializer(page, many=True).data)

    @extend_schema(
        request=PointsRedeemSerializer,
        responses={201: PointsMovementSerializer, 200: PointsMovementSerializer},
        description=format_lazy(
            "{} {}",
            _(
                "Redeem a guide's points for a reward. Idempotent on ``reference``: the same "
                "again answers 200 and writes nothing. Refused (400) when the balance would go "
                "below zero."
            ),
            HQ_ONLY,
        ),
        examples=write_examples(
            {
                "guide": "E0001",
                "brand": "AUR",
                "points": 500,
                "reward": "gift",
                "reason": "兑换店庆礼盒",
                "reference": "RDM-2026-03-0012",
            },
            {
                "id": 1204,
                "kind": "redemption",
                "points": -500,
                "month": None,
                "reward": "gift",
                "reason": "兑换店庆礼盒",
                "reference": "RDM-2026-03-0012",
                "actor": "hq_zhang",
                "created_at": "2026-03-20T14:00:00+08:00",
            },
        ),
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
