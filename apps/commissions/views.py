"""API entry points of the commissions app: validate, call a service or selector, answer."""

from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.commissions import reports, selectors, services
from apps.commissions.filters import CommissionEntryFilter, OrderFilter, SettlementFilter
from apps.commissions.models import CommissionPlan, Order, Refund, SettlementTerms
from apps.commissions.serializers import (
    CommissionAdjustmentInputSerializer,
    CommissionAdjustmentSerializer,
    CommissionEntrySerializer,
    CommissionPlanSerializer,
    CommissionReportQuerySerializer,
    CommissionReportSerializer,
    MarkPaidSerializer,
    OrderDetailSerializer,
    OrderInputSerializer,
    OrderListSerializer,
    OrderSerializer,
    PlanSuccessorSerializer,
    RefundBatchItemSerializer,
    RefundInputSerializer,
    RefundSerializer,
    SettlementSerializer,
    SettlementTermsSerializer,
)
from apps.core.api import Conflict, IsHQ, IsHQOrIntegration, query_params_check
from apps.core.batches import BatchInputSerializer, BatchResultSerializer, Outcome, batch_answer
from apps.core.batches import batch_validate as batch_items_validate
from apps.core.listing import ListDate
from apps.core.schema import HQ_ONLY, ErrorDetailSerializer, write_examples
from apps.core.schema import WRITE_HQ_INTEGRATION as HQ_INTEGRATION
from apps.core.scoping import scope_for_request, scope_for_user

CONFLICT_DESCRIPTION = _("The number exists with different content.")
ORDER_RELATED = ("brand", "store", "guide", "attributed_guide")
BATCH_DESCRIPTION = _(
    "Up to 1,000 items (more is a 400), each {item}. Answers 200 with every item's outcome "
    "in order: created, replayed (same number, same body: nothing written), conflict (same "
    "number, other body) or invalid (with field messages); a bad item never holds back the "
    "others. Items are written in chunks that commit on their own: after an interrupted "
    "request, send the same batch again."
)
SCOPED_READ = _("Any signed-in role reads within its scope (a guide: their own).")


def _batch_description(item):
    return format_lazy("{} {}", format_lazy(BATCH_DESCRIPTION, item=item), HQ_INTEGRATION)


ORDER = {
    "order_no": "POS-SH01-20260310-0042",
    "brand": "AUR",
    "store": "SH01",
    "guide": "E0001",
    "member_phone": "+86 138-1234-5678",
    "amount": "1280.00",
    "paid_at": "2026-03-10T18:30:00+08:00",
    "lines": [
        {"sku": "AUR-TEE-001-M", "category": "apparel", "quantity": 2, "amount": "580.00"},
        {"sku": "AUR-BAG-017", "category": "accessories", "quantity": 1, "amount": "700.00"},
    ],
}
ORDER_ANSWER = {
    "order_no": "POS-SH01-20260310-0042",
    "brand": "AUR",
    "store": "SH01",
    "guide": "E0001",
    "amount": "1280.00",
    "refunded_amount": "0.00",
    "paid_at": "2026-03-10T18:30:00+08:00",
    "business_date": "2026-03-10",
    "attributed_guide": "E0001",
    "attribution_reason": "order_guide",
    "attribution_note": "Guide named on the order",
    "created_at": "2026-03-10T18:30:02+08:00",
}
REFUND = {"refund_no": "RF-SH01-20260312-0007", "amount": "580.00",
          "refunded_at": "2026-03-12T11:05:00+08:00"}  # fmt: skip
REFUND_ANSWER = {**REFUND, "order_no": ORDER["order_no"], "business_date": "2026-03-12"}
PLAN = {
    "brand": "AUR",
    "store_kind": "direct",
    "store": None,
    "category": "",
    "guide_rate": "3.00",
    "store_rate": "2.00",
    "valid_from": "2026-04-01",
    "valid_to": None,
}
PLAN_ANSWER = {"id": 12, **PLAN, "specificity": 3}
SETTLEMENT_PAID = {
    "id": 310,
    "beneficiary": "guide",
    "guide": "E0001",
    "store": "SH01",
    "brand": "AUR",
    "mode": "MONTHLY",
    "period_start": "2026-03-01",
    "period_end": "2026-03-31",
    "source_ref": "",
    "entry_count": 86,
    "running_total": "2316.40",
    "entries_total": "2316.40",
    "carried_forward": "0.00",
    "total": "2316.40",
    "status": "paid",
    "payout_ref": "CMB-20260405-118",
    "paid_at": "2026-04-05T10:00:00+08:00",
    "created_at": "2026-03-01T00:00:03+08:00",
}
ADJUSTMENT = {
    "reference": "ADJ-2026-03-015",
    "brand": "AUR",
    "beneficiary": "guide",
    "guide": "E0001",
    "store": "SH01",
    "order": "POS-SH01-20260310-0042",
    "amount": "-25.00",
    "reason": "订单重复计提，冲回",
}


def _batch_example(item: dict, result: dict) -> list:
    return write_examples(
        {"items": [item, {**item, "amount": "1300.00"}]},
        {
            "created": 1,
            "replayed": 0,
            "conflict": 1,
            "invalid": 0,
            "items": [
                {"index": 0, "status": "created", "result": result},
                {
                    "index": 1,
                    "status": "conflict",
                    "errors": {"non_field_errors": ["The resource exists with different content."]},
                },
            ],
        },
        status="200",
    )


@extend_schema_view(
    list=extend_schema(
        description=format_lazy(
            "{} {}",
            _(
                "Orders, newest first (filters: brand, store, guide: the guide credited, "
                "phone: the member's full number in any accepted form, attribution_reason). "
                "Phones are masked unless the caller is HQ."
            ),
            SCOPED_READ,
        )
    ),
    retrieve=extend_schema(
        description=format_lazy(
            "{} {}",
            _(
                "One order by its number, with its lines, refunds, the ledger entries the "
                "caller may read and its attribution."
            ),
            SCOPED_READ,
        )
    ),
)
class OrderViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):  # fmt: skip
    """Paid orders from POS and e-commerce; idempotent on ``order_no``.

    Integrations and HQ write them; every role reads them within its scope (a
    store's orders, or the orders crediting a guide), with lines, refunds,
    ledger entries and attribution on the detail.
    """

    serializer_class = OrderListSerializer
    filterset_class = OrderFilter
    ordering_fields = ["paid_at", "business_date", "amount", "id"]
    list_date = ListDate("business_date", _("the order's business date (local date of payment)"))
    lookup_field = "order_no"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        scope = scope_for_request(self.request)
        if self.action == "retrieve":
            return selectors.order_detail_list(scope=scope)
        return selectors.order_list(scope=scope)

    def get_permissions(self):
        if self.action in ("create", "batch", "refunds"):
            return [IsHQOrIntegration()]
        return super().get_permissions()

    def get_serializer_class(self):
        if self.action == "create":
            return OrderInputSerializer
        if self.action == "refunds":
            return RefundInputSerializer
        if self.action == "retrieve":
            return OrderDetailSerializer
        return OrderListSerializer

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self, "request", None) is not None and self.request.user.is_authenticated:
            context["mask_phones"] = scope_for_request(self.request).masks_phones
        return context

    @extend_schema(
        request=OrderInputSerializer,
        responses={
            201: OrderSerializer,
            200: OpenApiResponse(OrderSerializer, description=_("The same order sent again.")),
            409: OpenApiResponse(ErrorDetailSerializer, description=CONFLICT_DESCRIPTION),
        },
        examples=write_examples(ORDER, ORDER_ANSWER),
        description=format_lazy(
            "{} {}",
            _(
                "Receive a paid order. Idempotent on ``order_no``: the same body again answers "
                "200 with the stored order, a different body under the same number 409. "
                "``paid_at`` carries its UTC offset and is at most 10 minutes ahead of the "
                "server; its calendar date in the server's time zone (Asia/Shanghai by "
                "default) is the business date. Amounts are CNY decimal strings with 2 places; "
                "lines, if sent, add up to the amount."
            ),
            HQ_INTEGRATION,
        ),
    )
    def create(self, request, *args, **kwargs):
        """Receive a paid order (integrations and HQ); idempotent on ``order_no``.

        The same body again answers 200 with the stored order, a different
        body under the same number 409. ``paid_at`` carries its UTC offset and
        is at most 10 minutes ahead of the server; its local date (the
        server's time zone) is the business date. Amounts are CNY decimal
        strings; lines, if sent, add up to the amount.
        """
        serializer = OrderInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        lines = [services.LineInput(**line) for line in data.pop("lines", [])]
        try:
            order, created = services.order_ingest(**data, lines=lines)
        except services.DuplicateWithDifferentContent as exc:
            raise Conflict(
                gettext("Order %(number)s exists with different content.") % {"number": exc}
            ) from exc
        return Response(
            OrderSerializer(order).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        request=BatchInputSerializer,
        responses={200: BatchResultSerializer},
        description=_batch_description(_("an order, as POST /api/v1/orders/ takes it")),
        examples=_batch_example(ORDER, ORDER_ANSWER),
    )
    @action(detail=False, methods=["post"])
    def batch(self, request):
        outcomes, valid = batch_items_validate(request.data, serializer_class=OrderInputSerializer)
        ingested = services.orders_ingest(orders=[_order_input(data) for _index, data in valid])
        for (index, _data), outcome in zip(valid, ingested, strict=True):
            outcomes[index] = outcome
        _with_related(outcomes, Order.objects.select_related(*ORDER_RELATED))
        return Response(batch_answer(outcomes, _orders_data))

    @extend_schema(
        request=RefundInputSerializer,
        responses={
            201: RefundSerializer,
            200: OpenApiResponse(RefundSerializer, description=_("The same refund sent again.")),
            409: OpenApiResponse(ErrorDetailSerializer, description=CONFLICT_DESCRIPTION),
        },
        examples=write_examples(REFUND, REFUND_ANSWER),
        description=format_lazy(
            "{} {}",
            _(
                "Receive a refund of an order. Idempotent on ``refund_no``: the same body "
                "again answers 200, a different body under the same number 409. The order must "
                "have been received (404 otherwise: send it first); refunds never add up to "
                "more than the order. Its calendar date is the business date of its clawback "
                "entries."
            ),
            HQ_INTEGRATION,
        ),
    )
    @action(detail=True, methods=["post"])
    def refunds(self, request, order_no=None):
        """Receive a refund of an order (integrations and HQ); idempotent on ``refund_no``.

        The order must have been received (404 otherwise: send it first);
        refunds never add up to more than the order. The same body again
        answers 200, a different body under the same number 409.
        """
        order = Order.objects.filter(order_no=order_no).first()
        if order is None:
            # Webhooks arrive in any order: the sender retries until the order is in.
            raise NotFound(
                gettext("Order %(number)s has not been received; send it before its refunds.")
                % {"number": order_no}
            )
        serializer = RefundInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            refund, created = services.refund_create(order=order, **serializer.validated_data)
        except services.DuplicateWithDifferentContent as exc:
            raise Conflict(
                gettext("Refund %(number)s exists with different content.") % {"number": exc}
            ) from exc
        return Response(
            RefundSerializer(refund).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class RefundBatchView(APIView):
    """Refunds in batches, each with its ``order_no``; idempotent per ``refund_no``."""

    permission_classes = [IsHQOrIntegration]

    @extend_schema(
        request=BatchInputSerializer,
        responses={200: BatchResultSerializer},
        description=_batch_description(
            _("a refund as POST /api/v1/orders/{order_no}/refunds/ takes it, plus order_no")
        ),
        examples=_batch_example({**REFUND, "order_no": ORDER["order_no"]}, REFUND_ANSWER),
    )
    def post(self, request):
        outcomes, valid = batch_items_validate(
            request.data, serializer_class=RefundBatchItemSerializer
        )
        ingested = services.refunds_ingest(
            refunds=[services.RefundInput(**data) for _index, data in valid]
        )
        for (index, _data), outcome in zip(valid, ingested, strict=True):
            outcomes[index] = outcome
        _with_related(outcomes, Refund.objects.select_related("order"))
        return Response(batch_answer(outcomes, _refunds_data))


def _orders_data(orders) -> list:
    return OrderSerializer(orders, many=True).data


def _refunds_data(refunds) -> list:
    return RefundSerializer(refunds, many=True).data


def _order_input(data: dict) -> services.OrderInput:
    lines = tuple(services.LineInput(**line) for line in data.pop("lines", []))
    return services.OrderInput(**data, lines=lines)


def _with_related(outcomes, queryset) -> None:
    """Swap the stored objects that replayed items answer with for ones read with their relations.

    One query for the whole batch, rather than one per related row per item.
    """
    replayed = [o for o in outcomes if o.status == Outcome.REPLAYED and o.obj is not None]
    if replayed:
        found = queryset.in_bulk([outcome.obj.pk for outcome in replayed])
        for outcome in replayed:
            outcome.obj = found[outcome.obj.pk]


@extend_schema_view(
    list=extend_schema(
        description=format_lazy(
            "{} {}",
            _(
                "Commission plans: the percent of a sale a guide and its store earn, per brand, "
                "narrowed by store kind, store and category (filters: specificity, category; "
                "date_from/date_to: plans valid on any day of the range)."
            ),
            HQ_ONLY,
        ),
        parameters=[
            OpenApiParameter(
                "category", str, description=_("Product category, exactly (empty: every one).")
            )
        ],
    ),
    retrieve=extend_schema(description=format_lazy("{} {}", _("One commission plan."), HQ_ONLY)),
    create=extend_schema(
        description=format_lazy(
            "{} {}",
            _(
                "Add a commission plan. Rates are percent decimal strings; the guide and store "
                "rates add up to 100 at most; valid from a business date."
            ),
            HQ_ONLY,
        ),
        examples=write_examples(PLAN, PLAN_ANSWER),
    ),
    update=extend_schema(
        description=format_lazy(
            "{} {}",
            _(
                "Change a commission plan. A plan that has priced entries keeps its rates, "
                "scope and start (a change is a 400 naming the fields): end it with "
                "``valid_to``, or post its successor."
            ),
            HQ_ONLY,
        ),
        examples=write_examples(PLAN, PLAN_ANSWER, status="200"),
    ),
    partial_update=extend_schema(
        description=format_lazy(
            "{} {}",
            _(
                "Change a commission plan. A plan that has priced entries keeps its rates, "
                "scope and start (a change is a 400 naming the fields): end it with "
                "``valid_to``, or post its successor."
            ),
            HQ_ONLY,
        ),
        examples=write_examples(
            {"valid_to": "2026-06-30"}, {**PLAN_ANSWER, "valid_to": "2026-06-30"}, status="200"
        ),
    ),
)
class CommissionPlanViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin, viewsets.GenericViewSet,
):  # fmt: skip
    """Commission plans: HQ only.

    A plan that has priced entries keeps its rates, scope and start (a change
    is a 400 naming the fields): end it with ``valid_to``, or post its
    ``successor``, which ends it the day before and adds the new plan.
    """

    queryset = CommissionPlan.objects.select_related("brand", "store")
    serializer_class = CommissionPlanSerializer
    permission_classes = [IsHQ]
    filterset_fields = ["specificity", "category"]
    ordering_fields = ["valid_from", "id"]
    list_date = ListDate(
        "valid_from", _("the plan's validity (plans valid on any day of the range)"), "valid_to"
    )

    def perform_create(self, serializer):
        serializer.instance = services.commission_plan_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.commission_plan_update(
            plan=serializer.instance, **serializer.validated_data
        )

    @extend_schema(
        request=PlanSuccessorSerializer,
        responses={201: CommissionPlanSerializer},
        description=format_lazy(
            "{} {}",
            _("End this plan the day before the successor starts and add the successor."),
            HQ_ONLY,
        ),
        examples=write_examples(
            {
                "valid_from": "2026-07-01",
                "valid_to": None,
                "guide_rate": "3.50",
                "store_rate": "2.00",
            },
            {**PLAN_ANSWER, "id": 13, "valid_from": "2026-07-01", "guide_rate": "3.50"},
        ),
    )
    @action(detail=True, methods=["post"])
    def successor(self, request, pk=None):
        """End this plan the day before the successor starts and add the successor."""
        body = PlanSuccessorSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        successor = services.commission_plan_succeed(plan=self.get_object(), **body.validated_data)
        return Response(CommissionPlanSerializer(successor).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(
        description=format_lazy(
            "{} {}",
            _("Settlement terms per brand (no store: the brand's default) and per store."),
            HQ_ONLY,
        )
    ),
    create=extend_schema(
        description=format_lazy(
            "{} {}",
            _(
                "Set the terms of a brand (no store) or of a store: they replace the terms of "
                "the same brand and store. Entries written afterwards are settled by them."
            ),
            HQ_ONLY,
        ),
        examples=write_examples(
            {"brand": "AUR", "store": "SH01", "mode": "TN", "hold_days": 7},
            {"id": 4, "brand": "AUR", "store": "SH01", "mode": "TN", "hold_days": 7},
        ),
    ),
)
class SettlementTermsViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet
):
    """Settlement terms per brand (no store: the default) and store: HQ only; POST upserts."""

    queryset = SettlementTerms.objects.select_related("brand", "store").order_by("pk")
    serializer_class = SettlementTermsSerializer
    permission_classes = [IsHQ]
    ordering_fields = ["id"]
    list_date = None  # terms carry no date

    def perform_create(self, serializer):
        serializer.instance = services.settlement_terms_set(**serializer.validated_data)


@extend_schema_view(
    list=extend_schema(
        description=format_lazy(
            "{} {}",
            _(
                "HQ's corrections of what a guide or store earned; each is one ledger entry of "
                "kind adjustment, settled by the beneficiary's terms like any other."
            ),
            HQ_ONLY,
        )
    ),
    retrieve=extend_schema(description=format_lazy("{} {}", _("One adjustment."), HQ_ONLY)),
)
class CommissionAdjustmentViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):  # fmt: skip
    """HQ's corrections of what a guide or store earned; idempotent on ``reference``.

    Each is one ledger entry of kind ``adjustment``, settled by the
    beneficiary's terms like any other entry.
    """

    serializer_class = CommissionAdjustmentSerializer
    permission_classes = [IsHQ]
    filterset_fields = ["beneficiary"]
    ordering_fields = ["business_date", "created_at", "id"]
    list_date = ListDate("business_date", _("the adjustment's business date (the day posted)"))

    def get_queryset(self):
        return selectors.commission_adjustment_list()

    @extend_schema(
        request=CommissionAdjustmentInputSerializer,
        responses={
            201: CommissionAdjustmentSerializer,
            200: OpenApiResponse(
                CommissionAdjustmentSerializer, description=_("The same adjustment sent again.")
            ),
            409: OpenApiResponse(ErrorDetailSerializer, description=CONFLICT_DESCRIPTION),
        },
        description=format_lazy(
            "{} {}",
            _(
                "Correct what a guide or store earned by a signed amount (CNY decimal string). "
                "Idempotent on ``reference``: the same body again answers 200, another body "
                "409."
            ),
            HQ_ONLY,
        ),
        examples=write_examples(
            ADJUSTMENT,
            {
                "id": 15,
                **ADJUSTMENT,
                "business_date": "2026-03-15",
                "actor": "hq_zhang",
                "created_at": "2026-03-15T09:12:00+08:00",
                "entry": 90412,
            },
        ),
    )
    def create(self, request, *args, **kwargs):
        body = CommissionAdjustmentInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            adjustment, created = services.commission_adjustment_create(
                **body.validated_data, actor=request.user
            )
        except services.DuplicateWithDifferentContent as exc:
            raise Conflict(
                gettext("Adjustment %(number)s exists with different content.") % {"number": exc}
            ) from exc
        adjustment = self.get_queryset().get(pk=adjustment.pk)
        return Response(
            CommissionAdjustmentSerializer(adjustment).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


@extend_schema_view(
    list=extend_schema(
        description=format_lazy(
            "{} {}",
            _(
                "Ledger entries: who earns how much from which order (filters: brand, store, "
                "guide, kind, beneficiary, mode, status). Entries are append-only; amounts are "
                "CNY decimal strings, rounded half up per entry."
            ),
            SCOPED_READ,
        )
    ),
    retrieve=extend_schema(description=format_lazy("{} {}", _("One ledger entry."), SCOPED_READ)),
)
class CommissionEntryViewSet(viewsets.ReadOnlyModelViewSet):
    """Ledger entries, within the caller's scope: who earns how much from which order.

    Entries are append-only; amounts are CNY decimal strings, rounded half up
    per entry; ``business_date`` is the local date of the payment or refund.
    """

    serializer_class = CommissionEntrySerializer
    filterset_class = CommissionEntryFilter
    ordering_fields = ["business_date", "amount", "id"]
    list_date = ListDate("business_date", _("the entry's business date"))

    def get_queryset(self):
        return selectors.commission_entry_list(scope=scope_for_user(self.request.user))


@extend_schema_view(
    list=extend_schema(
        description=format_lazy(
            "{} {}",
            _(
                "Settlements: a beneficiary's entries for a period (filters: brand, store, "
                "guide, beneficiary, mode, status). An open settlement's total is written when "
                "it closes; running_total and entry_count say what it holds so far."
            ),
            SCOPED_READ,
        )
    ),
    retrieve=extend_schema(description=format_lazy("{} {}", _("One settlement."), SCOPED_READ)),
)
class SettlementViewSet(viewsets.ReadOnlyModelViewSet):
    """Settlements within the caller's scope: a beneficiary's entries for a period.

    An open settlement's ``total`` is written when it closes; ``running_total``
    and ``entry_count`` say what it holds so far.
    """

    serializer_class = SettlementSerializer
    filterset_class = SettlementFilter
    ordering_fields = ["period_end", "total", "id"]
    list_date = ListDate(
        "period_start", _("the settlement's period (periods overlapping the range)"), "period_end"
    )

    def get_queryset(self):
        return selectors.settlement_list(scope=scope_for_user(self.request.user))

    @extend_schema(
        request=MarkPaidSerializer,
        responses={200: SettlementSerializer},
        description=format_lazy(
            "{} {}",
            _("Record that HQ paid a closed settlement out; the same payout_ref again is a no-op."),
            HQ_ONLY,
        ),
        examples=write_examples({"payout_ref": "CMB-20260405-118"}, SETTLEMENT_PAID, status="200"),
    )
    @action(detail=True, methods=["post"], url_path="mark-paid", permission_classes=[IsHQ])
    def mark_paid(self, request, pk=None):
        """Record that HQ paid a closed settlement out (HQ only); the same reference is a no-op."""
        serializer = MarkPaidSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        settlement = services.settlement_mark_paid(
            settlement=self.get_object(), payout_ref=serializer.validated_data["payout_ref"]
        )
        return Response(SettlementSerializer(self.get_queryset().get(pk=settlement.pk)).data)


class CanReadCommissionReport(permissions.BasePermission):
    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated) and (
            reports.can_read_commission_report(request.user)
        )


class CommissionReportView(APIView):
    """Commission per region, store, guide, brand, day or month, with a totals row.

    Filters: ``date_from``/``date_to`` (business dates, inclusive), ``brand``,
    ``region`` (with its sub-regions), ``store``, ``guide``, ``status``
    (``unsettled``/``settled``/``paid``); ``group_by``; ``export=csv|xlsx``
    streams a file instead of JSON.
    """

    permission_classes = [CanReadCommissionReport]

    @extend_schema(
        description=_(
            "Commission per region, store, guide, brand, day or month, with a totals row; "
            "``export=csv|xlsx`` streams a file instead of JSON. HQ operations (everything) "
            "and region managers (their regions) only; other roles get 403."
        ),
        parameters=[CommissionReportQuerySerializer],
        responses={
            200: CommissionReportSerializer,
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.BINARY, description=_("The report as CSV (export=csv).")
            ),
            (
                200,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ): OpenApiResponse(
                OpenApiTypes.BINARY, description=_("The report as an Excel workbook (export=xlsx).")
            ),
        },
    )
    def get(self, request):
        query_params_check(request, CommissionReportQuerySerializer().fields)
        query = CommissionReportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        answer = commission_report_answer(request, query)
        if not isinstance(answer, dict):
            return answer
        return Response(CommissionReportSerializer(answer).data)


def commission_report_answer(request, query: CommissionReportQuerySerializer):
    """Answer a validated report query for the API and the admin page alike (see ``reports``)."""
    return reports.commission_report(
        scope=scope_for_request(request),
        filters=query.report_filters(),
        export=query.validated_data.get("export"),
    )
