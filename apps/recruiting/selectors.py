"""Reads of recruiting: what a code stands for today, the brand's notice, recruiting counts."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from apps.core.dates import month_start, week_start
from apps.customers.models import Membership, PrivacyNotice
from apps.customers.selectors import store_carries_brand
from apps.guides.models import Guide
from apps.recruiting.links import LinkRead, LinkStatus
from apps.stores.models import Brand, Store

# Shown and consented to when a brand has published no notice of its own.
BUILTIN_NOTICE_VERSION = "builtin-2026-12"
BUILTIN_NOTICE_TITLE = _("How we use your personal information")
BUILTIN_NOTICE_BODY = _(
    "To make you a member, the brand and its stores keep your mobile number, the name "
    "and birthday you give and, if you allow it, your location when you join. They are "
    "used to run your membership, to match you with a nearby store and a shopping guide "
    "who may contact you, and to credit your purchases. Staff see your number masked. "
    "You can ask the store or the brand to show, correct or delete your information, or "
    "withdraw this consent, at any time."
)


@dataclass(frozen=True)
class Notice:
    version: str
    title: str
    body: str
    notice: PrivacyNotice | None = None


def privacy_notice_current(*, brand: Brand) -> Notice:
    """Return the brand's latest published privacy notice, or the built-in one.

    The text is in the page's language: the English version where the brand
    wrote one and the page is in English, else the Chinese.
    """
    notice = (
        PrivacyNotice.objects.filter(brand=brand, published_at__lte=timezone.now())
        .order_by("-published_at", "-pk")
        .first()
    )
    if notice is None:
        return Notice(BUILTIN_NOTICE_VERSION, str(BUILTIN_NOTICE_TITLE), str(BUILTIN_NOTICE_BODY))
    if get_language().startswith("en") and notice.title_en and notice.body_en:
        return Notice(notice.version, notice.title_en, notice.body_en, notice)
    return Notice(notice.version, notice.title, notice.body, notice)


@dataclass(frozen=True)
class SignUpTarget:
    """Where a sign-up through a link goes, after checking the link against today's facts.

    ``brand`` is None for a link that cannot be trusted at all: the shopper
    picks the brand and joins the nearest store. ``problems`` says what was
    wrong with the link, for the page to explain.
    """

    brand: Brand | None
    store: Store | None  # the code's store, when open and carrying the brand
    guide: Guide | None  # the code's guide, when still serving that store
    code_store: Store | None  # the code's store as printed, open or not
    code_guide: Guide | None
    problems: tuple[str, ...] = ()


class Problem:
    LINK_BAD = "link_bad"
    LINK_EXPIRED = "link_expired"
    GUIDE_LEFT = "guide_left"
    STORE_CLOSED = "store_closed"


def signup_target(link: LinkRead) -> SignUpTarget:
    """Work out the brand, store and guide a sign-up through ``link`` goes to."""
    if link.status == LinkStatus.BAD:
        return SignUpTarget(None, None, None, None, None, (Problem.LINK_BAD,))
    code = link.code
    brand = Brand.objects.filter(pk=code.brand_id).first()
    code_store = Store.objects.filter(pk=code.store_id).first()
    if brand is None or code_store is None:
        return SignUpTarget(None, None, None, None, None, (Problem.LINK_BAD,))
    code_guide = (
        Guide.objects.filter(pk=code.guide_id).select_related("store").first()
        if code.guide_id
        else None
    )
    problems = []
    if link.status == LinkStatus.EXPIRED:
        problems.append(Problem.LINK_EXPIRED)
    store = code_store if store_carries_brand(store=code_store, brand_id=brand.pk) else None
    if store is None:
        problems.append(Problem.STORE_CLOSED)
    guide = code_guide
    if guide is not None and not (guide.is_active and guide.store_id == code_store.pk):
        problems.append(Problem.GUIDE_LEFT)
        guide = None
    if store is None or link.status == LinkStatus.EXPIRED:
        # An old code still brings the member to its store, but credits no
        # guide: who holds a printed code years later is anyone's guess.
        guide = None
    return SignUpTarget(brand, store, guide, code_store, code_guide, tuple(problems))


@dataclass(frozen=True)
class RecruitCounts:
    week: int
    month: int


def recruit_counts(
    *, today: dt.date, guide: Guide | None = None, store: Store | None = None
) -> RecruitCounts:
    """Count members who joined this week and this month through a guide's or a store's codes.

    A guide's count is of members who joined through their code; a store's, of
    members who joined through any code of the store (its own or its guides').
    One query.
    """
    joined = Membership.objects.order_by()
    if guide is not None:
        joined = joined.filter(requested_guide=guide)
    else:
        joined = joined.filter(requested_store=store)
    month, week = month_start(today), week_start(today)
    since = min(month, week)
    counts = joined.filter(joined_at__gte=since).aggregate(
        week=Count("pk", filter=Q(joined_at__gte=week)),
        month=Count("pk", filter=Q(joined_at__gte=month)),
    )
    return RecruitCounts(week=counts["week"], month=counts["month"])
