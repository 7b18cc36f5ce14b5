"""Writes of recruiting: sign-up codes sent by SMS, and members joining through a QR code."""

import datetime as dt
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from apps.core.phones import phone_normalise
from apps.core.sms import SmsSendError, sms_send
from apps.core.throttling import fixed_window_hit, rate_parse
from apps.customers.models import Membership, MembershipConsent
from apps.customers.services import (
    JoinResult,
    customer_birthday_set,
    member_join,
    membership_consent_record,
)
from apps.customers.store_index import store_index_for_brand
from apps.recruiting.models import PhoneVerification
from apps.recruiting.selectors import Notice, SignUpTarget
from apps.stores.models import Brand, Store

CODE_DIGITS = 6
CODE_HASH_SALT = "apps.recruiting.code"


def _code_hash(phone: str, code: str) -> str:
    return salted_hmac(CODE_HASH_SALT, f"{phone}:{code}", algorithm="sha256").hexdigest()


def address_rate_check(*, address: str) -> None:
    """Count one sign-up request from ``address``; raise when the address sent too many.

    Requests that send a code and requests that join count alike: one
    address cannot send codes to a list of numbers, nor try codes, past the rate.
    """
    rate = rate_parse(settings.SIGNUP_RATE_PER_ADDRESS)
    if rate is None or not address:
        return
    limit, seconds = rate
    allowed, _ends = fixed_window_hit(
        f"recruiting:address:{address}", limit=limit, seconds=seconds, now=time.time()
    )
    if not allowed:
        raise ValidationError(
            {"__all__": _("Too many sign-up attempts from this network. Try again later.")},
            code="throttled",
        )


def signup_code_send(*, phone: str, address: str = "") -> PhoneVerification:
    """Send a one-time sign-up code to ``phone`` by SMS; return the verification row.

    Raises ValidationError naming ``phone`` for a bad number, a code asked for
    again too soon, or too many codes for the number, and for too many
    requests from the address.
    """
    try:
        phone = phone_normalise(phone)
    except ValidationError as exc:
        raise ValidationError({"phone": exc.messages}) from exc
    address_rate_check(address=address)
    now = timezone.now()
    recent = PhoneVerification.objects.filter(phone=phone).order_by("-created_at")
    last = recent.first()
    interval = dt.timedelta(seconds=settings.SIGNUP_CODE_INTERVAL_SECONDS)
    if last is not None and last.created_at > now - interval:
        wait = int((last.created_at + interval - now).total_seconds()) + 1
        raise ValidationError(
            {"phone": _("A code was just sent. Ask again in %(seconds)d s.") % {"seconds": wait}},
            code="throttled",
        )
    rate = rate_parse(settings.SIGNUP_CODE_RATE_PER_PHONE)
    if rate is not None:
        limit, seconds = rate
        sent = recent.filter(created_at__gt=now - dt.timedelta(seconds=seconds)).count()
        if sent >= limit:
            raise ValidationError(
                {"phone": _("Too many codes for this number. Try again later.")},
                code="throttled",
            )
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    verification = PhoneVerification.objects.create(
        phone=phone,
        code_hash=_code_hash(phone, code),
        expires_at=now + dt.timedelta(seconds=settings.SIGNUP_CODE_TTL_SECONDS),
    )
    minutes = max(1, settings.SIGNUP_CODE_TTL_SECONDS // 60)
    text = _("Your membership code is %(code)s (valid %(minutes)d min). Never share it.") % {
        "code": code,
        "minutes": minutes,
    }
    try:
        sms_send(phone=phone, text=text)
    except SmsSendError as exc:
        raise ValidationError(
            {"phone": _("The code could not be sent. Try again in a moment.")}, code="sms"
        ) from exc
    return verification


def signup_code_use(*, phone: str, code: str) -> None:
    """Use up the phone's current code if ``code`` is it; raise ValidationError naming ``code``.

    A code works once, until it expires, and a code tried wrongly
    ``SIGNUP_CODE_MAX_ATTEMPTS`` times stops working: ask for a new one.
    """
    now = timezone.now()
    verification = (
        PhoneVerification.objects.filter(phone=phone, used_at__isnull=True, expires_at__gt=now)
        .order_by("-created_at", "-pk")
        .first()
    )
    if verification is None or verification.attempts >= settings.SIGNUP_CODE_MAX_ATTEMPTS:
        raise ValidationError(
            {"code": _("The code has expired or was used. Ask for a new one.")}, code="expired"
        )
    if not constant_time_compare(verification.code_hash, _code_hash(phone, code.strip())):
        PhoneVerification.objects.filter(pk=verification.pk).update(attempts=F("attempts") + 1)
        raise ValidationError({"code": _("That code is not right.")}, code="invalid")
    # Conditional on still unused: of two requests with the same code, one wins.
    used = PhoneVerification.objects.filter(pk=verification.pk, used_at__isnull=True).update(
        used_at=now
    )
    if not used:
        raise ValidationError(
            {"code": _("The code has expired or was used. Ask for a new one.")}, code="expired"
        )


@dataclass(frozen=True)
class SignUp:
    result: JoinResult
    target: SignUpTarget

    @property
    def membership(self) -> Membership:
        return self.result.membership


def _nearest_open_store(*, brand: Brand, near: Store) -> Store | None:
    """Return the open store carrying ``brand`` nearest to ``near`` (a closed store)."""
    index = store_index_for_brand(brand.pk)
    found, _km = index.nearest([near.latitude], [near.longitude])
    if found[0] < 0:
        return None
    return Store.objects.filter(pk=int(index.store_ids[found[0]])).first()


def member_sign_up(
    *,
    target: SignUpTarget,
    notice: Notice,
    phone: str,
    code: str,
    name: str = "",
    birthday: dt.date | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    brand: Brand | None = None,
) -> SignUp:
    """Join the shopper to the code's brand at its store, through its guide; record consent.

    The phone is proven by its SMS code first. A code whose guide left gives
    the code's store (its guide chosen as for any member); a closed store's
    code gives the nearest store to the shopper's location, or, without one,
    to the closed store; a bad link needs ``brand`` and joins the nearest store.
    The join, the birthday and the consent are written together or not at all;
    the code is used up (and a wrong try counted) whatever follows.
    """
    phone = phone_normalise(phone)
    brand = target.brand or brand
    if brand is None:
        raise ValidationError({"brand": _("Choose a brand.")})
    signup_code_use(phone=phone, code=code)
    with transaction.atomic():
        return _member_join_with_consent(
            target=target,
            notice=notice,
            brand=brand,
            phone=phone,
            name=name,
            birthday=birthday,
            latitude=latitude,
            longitude=longitude,
        )


def _member_join_with_consent(
    *, target, notice, brand, phone, name, birthday, latitude, longitude
) -> SignUp:
    store, guide = target.store, target.guide
    if store is None and latitude is None and target.code_store is not None:
        store = _nearest_open_store(brand=brand, near=target.code_store)
    join = {
        "brand": brand,
        "phone": phone,
        "name": name,
        "source": Membership.Source.STORE_QR if target.code_store else Membership.Source.H5,
        "latitude": latitude,
        "longitude": longitude,
    }
    try:
        result = member_join(**join, store=store, guide=guide)
    except ValidationError:
        # The guide left or the store closed since the page read them: the
        # member still joins, as they would through a code gone stale.
        near, fallback = target.code_store or store, None
        if latitude is None and near is not None:
            fallback = _nearest_open_store(brand=brand, near=near)
        result = member_join(**join, store=fallback, guide=None)
    membership = result.membership
    customer_birthday_set(customer=membership.customer, birthday=birthday)
    membership_consent_record(
        membership=membership,
        notice=notice.notice,
        notice_version=notice.version,
        channel=MembershipConsent.Channel.SIGNUP_PAGE,
        included_location=latitude is not None,
    )
    return SignUp(result=result, target=target)


def phone_verifications_forget(*, phone: str) -> int:
    """Delete every sign-up code row of ``phone`` (an erased member's); return how many."""
    deleted, _by_model = PhoneVerification.objects.filter(phone=phone).delete()
    return deleted
