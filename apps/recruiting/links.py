"""Signed recruiting links: the brand, store and guide a QR code stands for.

A link is ``/join/<token>/`` where the token is the code's ids signed with the
project's secret key (``django.core.signing``, with its own salt): it cannot
be forged, nor edited to point at another guide, and it carries the time it
was made, so that old printed codes can be told apart.
"""

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.core import signing
from django.urls import reverse

LINK_SALT = "apps.recruiting.link"
WELCOME_SALT = "apps.recruiting.welcome"
WELCOME_MAX_AGE = dt.timedelta(days=1)


class LinkStatus(StrEnum):
    OK = "ok"
    EXPIRED = "expired"  # authentic, older than RECRUIT_LINK_MAX_AGE_DAYS
    BAD = "bad"  # forged, edited or truncated: nothing in it can be trusted


@dataclass(frozen=True)
class RecruitCode:
    """What a recruiting QR code stands for: a brand at a store, through a guide or not."""

    brand_id: int
    store_id: int
    guide_id: int | None = None


@dataclass(frozen=True)
class LinkRead:
    status: LinkStatus
    code: RecruitCode | None = None


def link_token(code: RecruitCode) -> str:
    """Return the signed token of ``code``."""
    payload = {"b": code.brand_id, "s": code.store_id}
    if code.guide_id is not None:
        payload["g"] = code.guide_id
    return signing.dumps(payload, salt=LINK_SALT, compress=False)


def link_path(code: RecruitCode) -> str:
    return reverse("recruiting:join", kwargs={"token": link_token(code)})


def _code_from(payload) -> RecruitCode | None:
    if not isinstance(payload, dict):
        return None
    brand_id, store_id, guide_id = payload.get("b"), payload.get("s"), payload.get("g")
    ids = [brand_id, store_id] + ([guide_id] if guide_id is not None else [])
    if not all(isinstance(value, int) and not isinstance(value, bool) for value in ids):
        return None
    return RecruitCode(brand_id=brand_id, store_id=store_id, guide_id=guide_id)


def link_read(token: str) -> LinkRead:
    """Check ``token``'s signature and age; return what it stands for and how far to trust it."""
    max_age = dt.timedelta(days=settings.RECRUIT_LINK_MAX_AGE_DAYS)
    try:
        code = _code_from(signing.loads(token, salt=LINK_SALT, max_age=max_age))
        status = LinkStatus.OK
    except signing.SignatureExpired:
        code = _code_from(signing.loads(token, salt=LINK_SALT))
        status = LinkStatus.EXPIRED
    except signing.BadSignature:
        return LinkRead(LinkStatus.BAD)
    if code is None:
        return LinkRead(LinkStatus.BAD)
    return LinkRead(status, code)


def welcome_token(membership_id: int, *, problems=(), existing: bool = False) -> str:
    """Sign what the welcome page after a sign-up shows: the membership and what went amiss."""
    payload = {"m": membership_id, "p": list(problems), "e": existing}
    return signing.dumps(payload, salt=WELCOME_SALT, compress=False)


@dataclass(frozen=True)
class Welcome:
    membership_id: int
    problems: tuple[str, ...]
    existing: bool


def welcome_read(token: str) -> Welcome | None:
    """Return what a welcome page token says, or None when it is bad or a day old."""
    try:
        payload = signing.loads(token, salt=WELCOME_SALT, max_age=WELCOME_MAX_AGE)
    except signing.BadSignature:
        return None
    value = payload.get("m") if isinstance(payload, dict) else None
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    problems = tuple(str(p) for p in payload.get("p", []))
    return Welcome(value, problems, bool(payload.get("e")))
