"""Members join through a guide's or a store's QR code on the public sign-up page."""

import datetime as dt
import re

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone

from apps.core import sms
from apps.customers.models import Membership, MembershipConsent, PrivacyNotice
from apps.guides.models import Guide
from apps.recruiting.links import RecruitCode, link_path, link_read, link_token
from apps.recruiting.models import PhoneVerification
from apps.recruiting.selectors import BUILTIN_NOTICE_VERSION, recruit_counts
from apps.stores.models import Store
from tests.factories import GuideFactory

pytestmark = pytest.mark.django_db

PHONE = "13912345678"


@pytest.fixture
def shop(org):
    """The guide G-SH01 of store SH01, brand AUR, and the guide's recruiting link."""
    guide = org.guides["G-SH01"]
    guide.name = "何杰"
    guide.save()
    store = guide.store
    store.name = "上海南京西路店"
    store.save()
    code = RecruitCode(brand_id=org.brands[0].pk, store_id=store.pk, guide_id=guide.pk)
    return guide, store, org.brands[0], link_path(code)


def sent_code(phone=PHONE) -> str:
    message = [m for m in sms.outbox if m.phone == phone][-1]
    return re.search(r"\d{6}", message.text).group()


@pytest.fixture
def sign_up(django_capture_on_commit_callbacks):
    """Ask for a code, then join with it; the assignment runs as a worker would."""

    def _sign_up(client, path, phone=PHONE, **extra):
        response = client.post(path, {"action": "send_code", "phone": phone})
        assert response.status_code == 200, response.content.decode()
        data = {"action": "join", "phone": phone, "code": sent_code(phone), "consent": "on"}
        data.update(extra)
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(path, data)

    return _sign_up


def test_link_cannot_be_pointed_at_another_guide(shop, org):
    guide, store, brand, _path = shop
    token = link_token(RecruitCode(brand.pk, store.pk, guide.pk))
    payload, signature = token.rsplit(":", 1)
    other = signing.dumps({"b": brand.pk, "s": store.pk, "g": org.guides["M-SH01"].pk})
    forged = f"{other.rsplit(':', 1)[0]}:{signature}"

    assert link_read(token).code.guide_id == guide.pk
    assert link_read(forged).status == "bad"
    assert link_read(token[:-2]).status == "bad"
    # Signed for another purpose (another salt) is no link either.
    assert link_read(signing.dumps({"b": brand.pk, "s": store.pk})).status == "bad"


def test_shopper_joins_through_the_guides_code_and_consent_is_recorded(shop, client, sign_up):
    guide, store, brand, path = shop
    PrivacyNotice.objects.create(
        brand=brand, version="2026-11", title="隐私政策", body="……", published_at=timezone.now()
    )

    page = client.get(path, headers={"accept-language": "zh-hans"})
    response = sign_up(
        client, path, name="林晓", birthday="1990-05-17", latitude="31.23", longitude="121.47"
    )

    assert "何杰" in page.content.decode() and "隐私政策" in page.content.decode()
    assert response.status_code == 302
    membership = Membership.objects.get(customer__phone=PHONE, brand=brand)
    assert (membership.guide, membership.store) == (guide, store)
    assert membership.requested_guide == guide
    assert membership.customer.name == "林晓"
    assert membership.customer.birthday == dt.date(1990, 5, 17)
    consent = MembershipConsent.objects.get(membership=membership)
    assert consent.notice_version == "2026-11"
    assert consent.channel == "signup_page" and consent.captured_by is None
    assert consent.included_location is True
    welcome = client.get(response["Location"], headers={"accept-language": "en"})
    assert "Your guide is 何杰 at 上海南京西路店" in welcome.content.decode()
    assert recruit_counts(guide=guide, today=timezone.localdate()).week == 1


def test_wrong_code_is_refused_and_counted_until_the_code_dies(shop, client, settings):
    _guide, _store, _brand, path = shop
    client.post(path, {"action": "send_code", "phone": PHONE})
    wrong = {"action": "join", "phone": PHONE, "code": "000000", "consent": "on"}
    if sent_code() == "000000":
        wrong["code"] = "111111"

    answers = [client.post(path, wrong) for _ in range(settings.SIGNUP_CODE_MAX_ATTEMPTS)]
    right = client.post(path, {**wrong, "code": sent_code()})

    assert {answer.status_code for answer in answers} == {400}
    assert "That code is not right." in answers[0].content.decode()
    assert right.status_code == 400
    assert "expired or was used" in right.content.decode()
    assert not Membership.objects.filter(customer__phone=PHONE).exists()


def test_without_consent_nobody_joins_and_the_code_stays_good(shop, client):
    _guide, _store, _brand, path = shop
    client.post(path, {"action": "send_code", "phone": PHONE})

    refused = client.post(path, {"action": "join", "phone": PHONE, "code": sent_code()})
    accepted = client.post(
        path, {"action": "join", "phone": PHONE, "code": sent_code(), "consent": "on"}
    )

    assert refused.status_code == 400
    assert "Please agree to the notice" in refused.content.decode()
    assert accepted.status_code == 302
    assert MembershipConsent.objects.get().notice_version == BUILTIN_NOTICE_VERSION


def test_code_is_one_time(shop, client, sign_up):
    _guide, _store, brand, path = shop
    first = sign_up(client, path)
    again = client.post(
        path, {"action": "join", "phone": PHONE, "code": sent_code(), "consent": "on"}
    )

    assert first.status_code == 302
    assert again.status_code == 400


def test_codes_are_limited_per_phone_and_per_address(shop, client, settings):
    _guide, _store, _brand, path = shop
    settings.SIGNUP_CODE_INTERVAL_SECONDS = 0
    settings.SIGNUP_CODE_RATE_PER_PHONE = "2/hour"
    settings.SIGNUP_RATE_PER_ADDRESS = "4/hour"

    per_phone = [
        client.post(path, {"action": "send_code", "phone": PHONE}).status_code for _ in range(3)
    ]
    per_address = [
        client.post(path, {"action": "send_code", "phone": f"1391234000{n}"}).status_code
        for n in range(3)
    ]

    assert per_phone == [200, 200, 400]
    # The address sent 3 requests above (one refused for the phone), so one more goes.
    assert per_address == [200, 400, 400]
    assert PhoneVerification.objects.count() == 3
    assert len(sms.outbox) == 3


def test_code_asked_again_too_soon_says_when(shop, client):
    _guide, _store, _brand, path = shop
    client.post(path, {"action": "send_code", "phone": PHONE})

    again = client.post(
        path, {"action": "send_code", "phone": PHONE}, headers={"accept-language": "zh-hans"}
    )

    assert again.status_code == 400
    assert "验证码刚刚已发送" in again.content.decode()
    assert len(sms.outbox) == 1


def test_bad_phone_is_refused_naming_the_field(shop, client):
    _guide, _store, _brand, path = shop

    response = client.post(path, {"action": "send_code", "phone": "12345"})

    assert response.status_code == 400
    assert "Enter a mainland mobile number" in response.content.decode()
    assert sms.outbox == []


def test_guide_who_left_still_brings_the_member_to_the_store(shop, client, sign_up):
    guide, store, brand, path = shop
    Guide.objects.filter(pk=guide.pk).update(is_active=False)

    response = sign_up(client, path)
    welcome = client.get(response["Location"])

    membership = Membership.objects.get(customer__phone=PHONE)
    assert membership.store == store
    assert membership.guide is not None and membership.guide != guide
    assert membership.requested_guide is None
    assert "no longer works at this store" in welcome.content.decode()


def test_closed_store_sends_the_member_to_the_nearest_open_store(shop, client, org, sign_up):
    _guide, store, brand, path = shop
    Store.objects.filter(pk=store.pk).update(is_active=False)
    nearby = org.stores["SH02"]  # same coordinates as the factory default
    GuideFactory(store=nearby)

    response = sign_up(client, path)

    membership = Membership.objects.get(customer__phone=PHONE)
    assert response.status_code == 302
    assert membership.store in {nearby, org.stores["BJ01"]}
    assert membership.assignment_status == "assigned"
    assert "has closed" in client.get(response["Location"]).content.decode()


def test_expired_code_joins_the_store_without_crediting_the_guide(shop, client, settings, sign_up):
    guide, store, brand, path = shop
    settings.RECRUIT_LINK_MAX_AGE_DAYS = -1

    response = sign_up(client, path)

    membership = Membership.objects.get(customer__phone=PHONE)
    assert response.status_code == 302
    assert membership.store == store
    assert membership.requested_guide is None


def test_bad_link_gets_a_friendly_page_and_the_brand_sign_up(shop, client, sign_up):
    _guide, _store, brand, _path = shop

    page = client.get("/join/not-a-real-code/", headers={"accept-language": "zh-hans"})
    response = sign_up(client, f"/join/brand/{brand.code}/", latitude="31.2", longitude="121.4")

    assert page.status_code == 404
    assert "二维码无法识别" in page.content.decode()
    assert f"/join/brand/{brand.code}/" in page.content.decode()
    assert response.status_code == 302
    assert Membership.objects.get(customer__phone=PHONE).store is not None


def test_member_already_joined_is_welcomed_back(shop, client, org, sign_up):
    _guide, _store, brand, path = shop
    phone = org.members["G-SH01"].customer.phone

    response = sign_up(client, path, phone=phone)
    welcome = client.get(response["Location"])

    assert Membership.objects.filter(customer__phone=phone, brand=brand).count() == 1
    assert "already a member" in welcome.content.decode()
    assert "13812340002" not in welcome.content.decode()


def test_welcome_page_needs_its_signed_token(client):
    assert client.get("/join/welcome/1/").status_code == 404


def test_store_code_counts_for_the_store(org, client, sign_up):
    store, brand = org.stores["SH01"], org.brands[0]
    path = link_path(RecruitCode(brand.pk, store.pk))

    sign_up(client, path)

    counts = recruit_counts(store=store, today=timezone.localdate())
    assert (counts.week, counts.month) == (1, 1)


def test_staff_get_png_svg_and_poster_others_do_not(shop, org):
    guide, _store, _brand, path = shop
    token = path.strip("/").split("/")[-1]
    staff = Client()
    staff.force_login(org.users["guide_sh01"])

    png = staff.get(f"/admin/recruit/qr/{token}.png")
    svg = staff.get(f"/admin/recruit/qr/{token}.svg")
    poster = staff.get(f"/admin/recruit/poster/{token}/")
    anonymous = Client().get(f"/admin/recruit/qr/{token}.png")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    assert svg.status_code == 200 and b"<svg" in svg.content
    assert "何杰" in poster.content.decode() and "上海南京西路店" in poster.content.decode()
    assert anonymous.status_code == 302
    assert staff.get("/admin/recruit/qr/forged.png").status_code == 404


def test_a_store_dropping_the_brand_while_the_shopper_fills_the_form_still_lets_them_join(
    shop, org
):
    from apps.recruiting.links import link_read as read
    from apps.recruiting.selectors import privacy_notice_current, signup_target
    from apps.recruiting.services import member_sign_up, signup_code_send

    guide, store, brand, path = shop
    target = signup_target(read(path.strip("/").split("/")[-1]))
    signup_code_send(phone=PHONE)
    store.brands.remove(brand)

    signup = member_sign_up(
        target=target, notice=privacy_notice_current(brand=brand), phone=PHONE, code=sent_code()
    )

    assert signup.result.created
    assert signup.membership.requested_guide is None
    assert signup.membership.requested_store in {org.stores["SH02"], org.stores["BJ01"]}
