"""Attributing an order again once its member's binding lands.

An order that arrives while the member's sign-up is still being bound
(``pending_membership``), or a moment before the sign-up itself reached the
system (``none_no_membership``: paid at the till while scanning the guide's
QR code), credits no guide at first. When the binding lands, the order is
attributed by the same rule as on arrival (``order_attribute``), so the same
facts give the same credit whichever message a worker happened to process
first. If the store's shares were already written, the guide's are added
beside them (kind ``bound_guide_late``); earlier entries are never edited.

Three paths lead here, so that no interleaving loses an order: the member's
binding (``member_orders_reattribute``, queued by the customers app's
``membership_bound`` event), the worker writing a new order's entries
(``orders_attribution_refresh_due``: the order may have committed after the
binding's task looked), and the nightly settlement run
(``orders_attribution_catch_up``: a message lost with a broker).
"""

import datetime as dt
import logging
from collections import defaultdict

from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from apps.commissions.models import ATTRIBUTION_REFRESHABLE, Beneficiary, CommissionEntry, Order
from apps.commissions.outbound_events import order_attributed_record
from apps.commissions.services.entries import (
    commission_entries_write,
    commission_entries_write_late_guide,
)
from apps.commissions.services.orders import order_attribute
from apps.commissions.services.settlements import settlement_settle_t0
from apps.customers.models import Membership
from apps.stores.models import Brand

logger = logging.getLogger(__name__)


def order_attribution_refresh(*, order_id: int, write_entries: bool = True) -> bool:
    """Attribute again an order whose member's binding was not known; return whether it changed.

    Only orders that credit no guide for that reason are looked at, under
    the order's row lock. A newly credited guide whose store shares exist gets
    its shares at once (``commission_entries_write_late_guide``); with
    ``write_entries`` every missing entry of the order (its clawbacks
    included) is then written and its T+0 entries settled, otherwise the
    caller (the order's entry worker) does that.
    """
    with transaction.atomic():
        order = (
            Order.objects.select_for_update(no_key=True, of=("self",))
            .select_related("brand", "guide")
            .filter(pk=order_id)
            .first()
        )
        if order is None or order.attribution_reason not in ATTRIBUTION_REFRESHABLE:
            return False
        guide, reason = order_attribute(
            brand=order.brand,
            guide=order.guide,
            member_phone=order.member_phone,
            paid_at=order.paid_at,
        )
        if guide is None and reason == order.attribution_reason:
            return False
        order.attributed_guide, order.attribution_reason = guide, reason
        order.save(update_fields=["attributed_guide", "attribution_reason"])
        order_attributed_record(order)
        if guide is not None:
            store_shares = CommissionEntry.objects.filter(
                order_id=order_id, refund__isnull=True, beneficiary=Beneficiary.STORE
            )
            if store_shares.exists():
                commission_entries_write_late_guide(order_id=order_id)
            if write_entries:
                commission_entries_write(order_id=order_id)
                settlement_settle_t0(order_id=order_id)
    return True


def member_orders_reattribute(*, membership_ids: list[int]) -> int:
    """Attribute again the open orders of members whose binding just landed; return the count."""
    members = defaultdict(list)
    for phone, brand_id in (
        Membership.objects.filter(pk__in=membership_ids)
        .exclude(assignment_status=Membership.Status.PENDING)
        .values_list("customer__phone", "brand_id")
    ):
        members[brand_id].append(phone)
    if not members:
        return 0
    of_members = Q()
    for brand_id, phones in members.items():
        of_members |= Q(brand_id=brand_id, member_phone__in=phones)
    order_ids = (
        Order.objects.filter(attribution_reason__in=ATTRIBUTION_REFRESHABLE)
        .exclude(member_phone="")
        .filter(of_members)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return sum(order_attribution_refresh(order_id=order_id) for order_id in list(order_ids))


def _with_binding_landed(orders):
    """Narrow ``orders`` to those whose member now has a membership past pending."""
    landed = Membership.objects.filter(
        customer__phone=OuterRef("member_phone"), brand_id=OuterRef("brand_id")
    ).exclude(assignment_status=Membership.Status.PENDING)
    return (
        orders.filter(attribution_reason__in=ATTRIBUTION_REFRESHABLE)
        .exclude(member_phone="")
        .filter(Exists(landed))
    )


def orders_attribution_refresh_due(orders: list[tuple[int, str]]) -> None:
    """Attribute again, before their entries are written, the orders whose binding has landed.

    ``orders`` are (id, attribution reason) pairs the entry worker holds
    locked: nothing is asked of the database unless one of them is open.
    """
    open_ids = [pk for pk, reason in orders if reason in ATTRIBUTION_REFRESHABLE]
    if not open_ids:
        return
    due = _with_binding_landed(Order.objects.filter(pk__in=open_ids)).order_by("pk")
    for order_id in due.values_list("pk", flat=True):
        order_attribution_refresh(order_id=order_id, write_entries=False)


def orders_attribution_catch_up(
    *, since: dt.date, until: dt.date, brand: Brand | None = None
) -> int:
    """Attribute again the open orders dated ``since``–``until`` whose binding has landed.

    For the orders whose re-attribution message was lost; returns how many
    changed.
    """
    orders = Order.objects.filter(business_date__gte=since, business_date__lte=until)
    if brand is not None:
        orders = orders.filter(brand=brand)
    order_ids = list(_with_binding_landed(orders).order_by("pk").values_list("pk", flat=True))
    changed = sum(order_attribution_refresh(order_id=order_id) for order_id in order_ids)
    if changed:
        logger.warning(
            "settlement run: attributed %s orders again whose binding had landed "
            "(their messages were lost)",
            changed,
        )
    return changed
