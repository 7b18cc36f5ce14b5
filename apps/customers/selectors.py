"""Reads for member assignment and the members API."""

from functools import cache

from django.db import connection
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.scoping import Scope, mask_phone, scope_queryset
from apps.core.sql import SQL, in_list, list_param, render, table
from apps.customers.models import BrandPrivacyPolicy, Customer, Membership, PrivacyNotice
from apps.guides.models import Guide
from apps.stores.models import Store


def store_carries_brand(*, store: Store, brand_id: int) -> bool:
    return store.is_active and store.brands.filter(pk=brand_id).exists()


# Past this many guides a bulk read counts the loads of the brand's every
# guide rather than naming them.
LARGE_ID_SET = 1_000


def active_guides_of_stores(store_ids: list[int]) -> list[tuple[int, int]]:
    """Return (guide id, store id) of the active guides of many stores.

    Ordered by store, then employee no., so a guide's position ranks it
    within its store.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            _active_guides_of_stores_sql(connection.vendor),
            {"store_ids": list_param(store_ids)},
        )
        return cursor.fetchall()


@cache
def _active_guides_of_stores_sql(vendor: str) -> str:
    return render(
        SQL(
            "SELECT id, store_id FROM {guide} WHERE is_active AND {stores} "
            "ORDER BY store_id, employee_no"
        ).format(guide=table(Guide), stores=in_list(vendor, "store_id", "store_ids"))
    )


def guide_loads_of_brand(*, brand_id: int) -> dict[int, int]:
    """Return how many memberships of the brand every guide holding any has."""
    return dict(
        Membership.objects.filter(brand_id=brand_id, guide__isnull=False)
        .order_by()
        .values("guide_id")
        .annotate(n=Count("pk"))
        .values_list("guide_id", "n")
    )


def guide_load_subquery(*, brand_id: int):
    """Return an expression counting a guide's memberships of the brand (for ``annotate``)."""
    counts = (
        Membership.objects.filter(guide=OuterRef("pk"), brand_id=brand_id)
        .order_by()
        .values("guide")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts), 0)


def guide_loads(*, guide_ids: list[int], brand_id: int) -> dict[int, int]:
    """Return how many memberships of the brand each guide holds (0 for none)."""
    counts = dict(
        Membership.objects.filter(guide_id__in=guide_ids, brand_id=brand_id)
        .order_by()
        .values("guide_id")
        .annotate(n=Count("pk"))
        .values_list("guide_id", "n")
    )
    return {guide_id: counts.get(guide_id, 0) for guide_id in guide_ids}


def active_guides_of_store(store_id: int) -> QuerySet[Guide]:
    return Guide.objects.filter(store_id=store_id, is_active=True).order_by("pk")


def membership_list(*, scope: Scope) -> QuerySet[Membership]:
    """Return the memberships ``scope`` sees; below HQ, only members in marketing use."""
    queryset = Membership.objects.select_related("customer", "brand", "store", "guide")
    if not scope.everything:
        queryset = memberships_in_marketing_use(queryset)
    return scope_queryset(queryset, scope)


def memberships_in_marketing_use(
    queryset: QuerySet[Membership], *, prefix: str = ""
) -> QuerySet[Membership]:
    """Leave out members who withdrew their consent or were erased.

    ``prefix`` is the path from the queryset's model to the membership
    (``membership__`` for follow-ups).
    """
    return queryset.filter(
        **{f"{prefix}consent_withdrawn_at__isnull": True, f"{prefix}erased_at__isnull": True}
    )


def brand_privacy_policy(*, brand_id: int) -> BrandPrivacyPolicy:
    """Return the brand's privacy policy, or the defaults (unsaved) where it has none."""
    policy = BrandPrivacyPolicy.objects.filter(brand_id=brand_id).first()
    return policy if policy is not None else BrandPrivacyPolicy(brand_id=brand_id)


def privacy_notice_published(*, brand_id: int, version: str) -> PrivacyNotice | None:
    """Return the brand's published notice ``version``, or None."""
    return PrivacyNotice.objects.filter(
        brand_id=brand_id, version=version, published_at__lte=timezone.now()
    ).first()


def customer_list(
    *, scope: Scope, queryset: QuerySet[Customer] | None = None
) -> QuerySet[Customer]:
    """Return the customers holding at least one membership ``scope`` may see (in use, below HQ).

    A semi-join rather than a join through memberships, so a customer with
    several memberships in scope is listed once without DISTINCT.
    """
    queryset = Customer.objects.all() if queryset is None else queryset
    if scope.everything:
        return queryset
    memberships = scope_queryset(memberships_in_marketing_use(Membership.objects.order_by()), scope)
    return queryset.filter(pk__in=memberships.values("customer_id"))


def member_export_rows(
    memberships: QuerySet[Membership], *, masks_phones: bool
) -> tuple[list[Membership], list[list]]:
    """Return the members to export (in marketing use only) and the sheet's rows, header first.

    Roles that see masks get masked phones and birthdays as month and day.
    """
    members = list(
        memberships_in_marketing_use(memberships)
        .select_related("customer", "brand", "store", "guide")
        .order_by("pk")
    )
    rows: list[list] = [
        [
            _("brand"),
            _("mobile phone"),
            _("name"),
            _("birthday"),
            _("store"),
            _("guide"),
            _("joined at"),
        ]
    ]
    for membership in members:
        customer, birthday = membership.customer, membership.customer.birthday
        if birthday is not None:
            birthday = birthday.strftime("%m-%d") if masks_phones else birthday.isoformat()
        rows.append(
            [
                membership.brand.code,
                mask_phone(customer.phone) if masks_phones else customer.phone,
                customer.name,
                birthday or "",
                membership.store.code if membership.store else "",
                membership.guide.employee_no if membership.guide else "",
                timezone.localtime(membership.joined_at).strftime("%Y-%m-%d %H:%M"),
            ]
        )
    return members, rows
