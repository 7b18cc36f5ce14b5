"""Members' personal information (PIPL): consent on record, withdrawal, access log, erasure."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from apps.commissions import services as commissions
from apps.commissions.models import CommissionEntry, Order, Settlement
from apps.commissions.selectors import LedgerScope, ledger_verify
from apps.customers.models import (
    BrandPrivacyPolicy,
    Customer,
    ErasedPhone,
    Membership,
    MembershipConsent,
    PersonalDataAccess,
    PrivacyNotice,
)
from apps.customers.services import member_join, membership_erase
from apps.engagement.models import FollowUpRule, FollowUpTask, MemberNote, MemberTag, Tag
from apps.engagement.services import follow_ups_create
from apps.recruiting.models import PhoneVerification
from tests.commissions.factories import CommissionPlanFactory, SettlementTermsFactory
from tests.conftest import token_client

pytestmark = pytest.mark.django_db

MEMBERS_URL = "/api/v1/members/"
PHONE = "13712345678"


@pytest.fixture
def notice(brand):
    return PrivacyNotice.objects.create(
        brand=brand,
        version="2026-12",
        title="个人信息保护说明",
        body="……",
        title_en="Privacy notice",
        body_en="...",
        published_at=timezone.now() - dt.timedelta(days=1),
    )


@pytest.fixture
def consent_required(brand):
    return BrandPrivacyPolicy.objects.create(brand=brand, consent_required=True)


# --- 1. Consent on record ---------------------------------------------------------------------


def test_a_brand_requiring_consent_refuses_a_sign_up_without_it(
    integration_client, store, consent_required, notice
):
    response = integration_client.post(
        MEMBERS_URL, {"brand": "AUR", "phone": PHONE, "store": "SH01"}, format="json"
    )

    assert response.status_code == 400
    assert "consent_notice" in response.data
    assert not Customer.objects.filter(phone=PHONE).exists()


def test_a_sign_up_naming_an_unpublished_notice_is_refused_and_writes_nothing(
    integration_client, store, notice
):
    response = integration_client.post(
        MEMBERS_URL,
        {"brand": "AUR", "phone": PHONE, "store": "SH01", "consent_notice": "1999-01"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    assert response.status_code == 400
    assert "1999-01" in response.data["consent_notice"][0]
    assert "隐私" in response.data["consent_notice"][0]  # in the caller's language
    assert not Membership.objects.exists()


def test_a_sign_up_with_consent_records_version_time_channel_and_who_captured_it(
    integration_client, store, consent_required, notice
):
    response = integration_client.post(
        MEMBERS_URL,
        {"brand": "AUR", "phone": PHONE, "source": "pos", "consent_notice": "2026-12"},
        format="json",
    )

    assert response.status_code == 201, response.data
    consent = MembershipConsent.objects.get(membership_id=response.data["id"])
    assert (consent.notice, consent.notice_version, consent.channel) == (notice, "2026-12", "pos")
    assert consent.captured_by.username == "pos-system"
    assert consent.consented_at is not None and consent.withdrawn_at is None


def test_a_batch_of_sign_ups_takes_each_consent_as_one_sign_up_does(
    integration_client, store, consent_required, notice
):
    items = [
        {"brand": "AUR", "phone": PHONE, "source": "pos", "consent_notice": "2026-12"},
        {"brand": "AUR", "phone": "13712345679", "source": "pos"},  # no consent stated
        {"brand": "AUR", "phone": "13712345670", "source": "pos", "consent_notice": "1999-01"},
    ]

    response = integration_client.post(f"{MEMBERS_URL}batch/", {"items": items}, format="json")

    assert response.status_code == 200, response.data
    answers = response.data["items"]
    assert [answer["status"] for answer in answers] == ["created", "invalid", "invalid"]
    assert set(answers[1]["errors"]) == {"consent_notice"}
    assert "1999-01" in answers[2]["errors"]["consent_notice"][0]
    consent = MembershipConsent.objects.get(membership__customer__phone=PHONE)
    assert (consent.notice, consent.channel) == (notice, "pos")
    assert consent.captured_by.username == "pos-system"
    assert list(Customer.objects.values_list("phone", flat=True)) == [PHONE]


def test_brands_without_the_requirement_still_accept_sign_ups_without_consent(
    integration_client, store
):
    response = integration_client.post(
        MEMBERS_URL, {"brand": "AUR", "phone": PHONE, "store": "SH01"}, format="json"
    )

    assert response.status_code == 201
    assert not MembershipConsent.objects.exists()


# --- Withdrawal -------------------------------------------------------------------------------


def test_withdrawing_consent_hides_the_member_from_guides_follow_ups_and_exports(org, client):
    member = org.members["G-SH01"]
    rule = FollowUpRule.objects.create(brand=member.brand, kind="welcome", days=1)
    FollowUpTask.objects.create(
        membership=member, guide=member.guide, rule=rule, kind="welcome", occasion="welcome",
        due_date=timezone.localdate(),
    )  # fmt: skip
    guide = token_client(org.users["guide_sh01"])
    assert guide.get(MEMBERS_URL).data["count"] == 1
    assert guide.get("/api/v1/me/members/").data["count"] == 1

    response = token_client(org.users["pos"]).post(f"{MEMBERS_URL}{member.pk}/withdraw-consent/")

    assert response.status_code == 200
    member.refresh_from_db()
    assert member.consent_withdrawn_by == org.users["pos"]
    assert guide.get(MEMBERS_URL).data["count"] == 0
    assert guide.get("/api/v1/me/members/").data["count"] == 0
    assert guide.get(f"{MEMBERS_URL}{member.pk}/").status_code == 404
    assert list(FollowUpTask.objects.values_list("status", flat=True)) == ["skipped"]
    assert guide.get("/api/v1/follow-ups/").data["count"] == 0
    # The daily run makes no new task for them
    FollowUpTask.objects.all().delete()
    follow_ups_create()
    assert not FollowUpTask.objects.filter(membership=member).exists()
    # Nor does their store manager find them among the customers
    client.force_login(org.users["manager_sh01"])
    customers = client.get(reverse("admin:customers_customer_changelist")).content.decode()
    assert "138****0001" in customers and "138****0002" not in customers
    # An HQ export of every member leaves them out
    client.force_login(org.users["hq"])
    export = client.post(
        reverse("admin:customers_membership_changelist"),
        {
            "action": "export_csv",
            "_selected_action": [m.pk for m in Membership.objects.all()],
        },
    )
    text = b"".join(export.streaming_content).decode()
    assert member.customer.phone not in text
    assert org.members["G-SH02"].customer.phone in text


def test_guides_and_store_managers_cannot_withdraw_or_erase(org):
    member = org.members["G-SH01"]
    manager = token_client(org.users["manager_sh01"])

    assert manager.post(f"{MEMBERS_URL}{member.pk}/withdraw-consent/").status_code == 403
    assert manager.post(f"{MEMBERS_URL}{member.pk}/erase/").status_code == 403
    assert token_client(org.users["pos"]).post(f"{MEMBERS_URL}{member.pk}/erase/").status_code == (
        403
    )


def test_consenting_again_puts_a_withdrawn_member_back(integration_client, store, notice):
    payload = {"brand": "AUR", "phone": PHONE, "store": "SH01", "consent_notice": "2026-12"}
    membership_id = integration_client.post(MEMBERS_URL, payload, format="json").data["id"]
    integration_client.post(f"{MEMBERS_URL}{membership_id}/withdraw-consent/")
    assert Membership.objects.get(pk=membership_id).consent_withdrawn_at is not None

    again = integration_client.post(MEMBERS_URL, payload, format="json")

    assert again.status_code == 200
    assert Membership.objects.get(pk=membership_id).consent_withdrawn_at is None
    assert MembershipConsent.objects.filter(membership_id=membership_id).count() == 2


# --- 2. Who saw what --------------------------------------------------------------------------


def test_every_full_number_read_writes_one_access_record_and_masked_reads_none(org, client):
    hq = token_client(org.users["hq"])

    listed = hq.get(MEMBERS_URL, {"brand": "AUR"})
    one = org.members["G-SH02"]
    hq.get(f"{MEMBERS_URL}{one.pk}/")
    token_client(org.users["guide_sh01"]).get(MEMBERS_URL)  # masked
    token_client(org.users["pos"]).get(MEMBERS_URL)  # integrations read masks too
    client.force_login(org.users["guide_sh01"])
    client.get(reverse("admin:customers_membership_changelist"))  # masked

    records = list(PersonalDataAccess.objects.order_by("pk"))
    assert len(records) == 2
    assert (records[0].kind, records[0].row_count) == ("api", listed.data["count"])
    assert records[0].where == f"GET {MEMBERS_URL}"
    assert records[0].filters == {"brand": "AUR"}
    assert records[0].actor == org.users["hq"]
    assert (records[1].customer_ids, records[1].row_count) == ([one.customer_id], 1)


def test_hq_admin_member_page_and_export_are_logged_with_rows_and_filters(org, client):
    client.force_login(org.users["hq"])
    customer = org.members["G-SH02"].customer

    page = client.get(reverse("admin:customers_customer_change", args=[customer.pk]))
    export = client.post(
        reverse("admin:customers_membership_changelist") + "?brand__id__exact="
        + str(org.brands[0].pk),
        {"action": "export_csv", "_selected_action": [m.pk for m in org.members.values()]},
    )  # fmt: skip
    b"".join(export.streaming_content)

    assert page.status_code == 200
    detail, exported = PersonalDataAccess.objects.order_by("pk")
    assert (detail.kind, detail.customer_ids, detail.row_count) == (
        "admin_detail",
        [customer.pk],
        1,
    )
    assert (exported.kind, exported.row_count) == ("export", 4)
    assert exported.filters == {"brand__id__exact": str(org.brands[0].pk)}


def test_non_hq_exports_carry_masked_phones_and_month_day_birthdays_and_log_nothing(org, client):
    member = org.members["G-SH01"]
    Customer.objects.filter(pk=member.customer_id).update(birthday=dt.date(1990, 7, 14))
    client.force_login(org.users["manager_sh01"])

    export = client.post(
        reverse("admin:customers_membership_changelist"),
        {"action": "export_csv", "_selected_action": [member.pk]},
    )
    text = b"".join(export.streaming_content).decode()

    assert "138****0002" in text and member.customer.phone not in text
    assert "07-14" in text and "1990" not in text
    assert not PersonalDataAccess.objects.exists()


def test_the_access_log_is_read_only_in_the_admin_and_hidden_below_hq(org, client):
    token_client(org.users["hq"]).get(MEMBERS_URL)
    record = PersonalDataAccess.objects.get()
    client.force_login(org.users["hq"])
    url = reverse("admin:customers_personaldataaccess_change", args=[record.pk])

    assert client.get(reverse("admin:customers_personaldataaccess_changelist")).status_code == 200
    assert client.post(url, {"row_count": 0}).status_code == 403
    delete = reverse("admin:customers_personaldataaccess_delete", args=[record.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    client.force_login(org.users["manager_sh01"])
    assert client.get(reverse("admin:customers_personaldataaccess_changelist")).status_code == 403


def test_phone_numbers_searched_for_are_masked_in_the_log(org, client):
    phone = org.members["G-SH02"].customer.phone
    client.force_login(org.users["hq"])

    client.get(reverse("admin:customers_customer_changelist"), {"q": phone})

    record = PersonalDataAccess.objects.get()
    assert (record.kind, record.row_count) == ("admin_list", 1)
    assert record.filters == {"q": "138****0003"}


# --- 3. Erasure -------------------------------------------------------------------------------


def _rows_containing(text: str) -> list[tuple[str, tuple]]:
    """Every row of every table in the database with ``text`` in any column."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            found += [(table, row) for row in cursor.fetchall() if text in str(row)]
    return found


@pytest.fixture
def paid_member(org, django_capture_on_commit_callbacks, client):
    """A member of AUR and BOR at SH01 with orders of both brands, settled and paid; notes,
    tags, a follow-up, a sign-up code and an HQ admin page view on record."""
    aurora, borealis = org.brands
    member = org.members["G-SH01"]
    Customer.objects.filter(pk=member.customer_id).update(birthday=dt.date(1990, 7, 14))
    other = Membership.objects.create(
        customer=member.customer, brand=borealis, store=member.store, guide=member.guide,
        assignment_status="assigned", source="pos", joined_at=timezone.now(),
        bound_at=timezone.now(), latitude=31.2, longitude=121.4,
    )  # fmt: skip
    phone = member.customer.phone
    for brand in (aurora, borealis):
        CommissionPlanFactory(brand=brand, guide_rate=Decimal("3.00"), store_rate=Decimal("5.00"))
        SettlementTermsFactory(brand=brand, mode="T1", hold_days=1)
    paid_at = timezone.now() - dt.timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        for brand, order_no in ((aurora, "A-1"), (borealis, "B-1")):
            commissions.order_ingest(
                order_no=order_no, amount=Decimal("199.99"), paid_at=paid_at, brand=brand,
                store=member.store, guide=member.guide, member_phone=phone, lines=[],
            )  # fmt: skip
    commissions.settlement_run(run_date=timezone.localdate())
    for settlement in Settlement.objects.all():
        commissions.settlement_mark_paid(settlement=settlement, payout_ref=f"P{settlement.pk}")
    assert Settlement.objects.filter(status="paid").count() == 4  # guide and store, per brand
    tag = Tag.objects.create(brand=aurora, name="VIP")
    MemberTag.objects.create(membership=member, tag=tag)
    MemberNote.objects.create(membership=member, author_name="g", body=f"call {phone} after 6")
    FollowUpTask.objects.create(
        membership=member, guide=member.guide, kind="manual", occasion="x",
        title=f"ring {phone}", due_date=timezone.localdate(),
    )  # fmt: skip
    PhoneVerification.objects.create(phone=phone, code_hash="0" * 64, expires_at=timezone.now())
    client.force_login(org.users["hq"])
    client.get(reverse("admin:customers_customer_change", args=[member.customer_id]))
    return member, other, phone


def _ledger_figures():
    return (
        sorted(Settlement.objects.values_list("pk", "total", "status", "payout_ref")),
        sorted(CommissionEntry.objects.values_list("pk", "amount", "settlement_id")),
        sorted(Order.objects.values_list("pk", "amount", "refunded_amount", "attributed_guide")),
    )


def test_erasing_the_last_membership_leaves_no_phone_anywhere_and_the_ledger_intact(
    org, paid_member
):
    member, other, phone = paid_member
    before = _ledger_figures()
    assert ledger_verify(scope=LedgerScope()).breaches == []
    hq = token_client(org.users["hq"])

    first = hq.post(f"{MEMBERS_URL}{member.pk}/erase/")
    # Only that brand's data goes: the customer still holds BOR
    assert first.status_code == 200
    assert Customer.objects.get(pk=other.customer_id).phone == phone
    assert Order.objects.get(order_no="A-1").member_phone == f"x{member.pk:010d}"
    assert Order.objects.get(order_no="B-1").member_phone == phone
    assert not MemberNote.objects.exists() and not MemberTag.objects.exists()
    assert FollowUpTask.objects.get().title == ""

    second = hq.post(f"{MEMBERS_URL}{other.pk}/erase/")

    assert second.status_code == 200
    assert _rows_containing(phone) == []
    assert _rows_containing("1990-07-14") == []
    customer = Customer.objects.get(pk=other.customer_id)
    assert (customer.name, customer.birthday, customer.erased_at is not None) == ("", None, True)
    other.refresh_from_db()
    assert (other.latitude, other.longitude, other.erased_at is not None) == (None, None, True)
    assert other.erased_by == org.users["hq"]
    assert _ledger_figures() == before
    assert ledger_verify(scope=LedgerScope()).breaches == []
    assert not PhoneVerification.objects.exists()
    # Proof of the consent history stays, stamped
    assert not MembershipConsent.objects.filter(withdrawn_at__isnull=True).exists()


def test_erasure_is_idempotent_and_the_admin_action_calls_the_same_service(
    org, paid_member, client
):
    member, other, phone = paid_member
    client.force_login(org.users["hq"])

    client.post(
        reverse("admin:customers_membership_changelist"),
        {"action": "erase", "_selected_action": [member.pk, other.pk]},
    )
    erased_at = Membership.objects.get(pk=member.pk).erased_at
    membership_erase(membership=Membership.objects.get(pk=member.pk))

    assert Membership.objects.get(pk=member.pk).erased_at == erased_at
    assert _rows_containing(phone) == []


def test_a_re_join_after_erasure_is_recognised_only_where_the_brand_keeps_hashes(org):
    aurora, borealis = org.brands
    BrandPrivacyPolicy.objects.create(brand=aurora, recognise_rejoins=True)
    members = [org.members["G-SH01"], org.members["G-SH02"]]
    Membership.objects.filter(pk=members[1].pk).update(brand=borealis)
    phones = [m.customer.phone for m in members]
    for membership in members:
        membership_erase(membership=Membership.objects.get(pk=membership.pk))

    again = member_join(brand=aurora, phone=phones[0], source="pos").membership
    other = member_join(brand=borealis, phone=phones[1], source="pos").membership

    assert again.rejoined_after_erasure and not other.rejoined_after_erasure
    assert ErasedPhone.objects.count() == 1
    assert phones[0] not in ErasedPhone.objects.get().phone_hash


def test_hq_sees_an_erased_member_with_a_pseudonym_and_no_access_is_logged(org):
    member = org.members["G-SH02"]
    membership_erase(membership=member)
    hq = token_client(org.users["hq"])

    shown = hq.get(f"{MEMBERS_URL}{member.pk}/").data

    assert shown["phone"] == f"x{member.pk:010d}"
    assert (shown["name"], shown["latitude"]) == ("", None)
    assert not PersonalDataAccess.objects.exists()


def test_the_sign_up_page_shows_the_notice_in_the_shoppers_language(brand, notice):
    from django.utils import translation

    from apps.recruiting.selectors import privacy_notice_current

    with translation.override("en"):
        english = privacy_notice_current(brand=brand)
    with translation.override("zh-hans"):
        chinese = privacy_notice_current(brand=brand)

    assert (english.title, english.version) == ("Privacy notice", "2026-12")
    assert (chinese.title, chinese.version) == ("个人信息保护说明", "2026-12")


def test_hq_on_the_phone_pages_is_logged_and_a_guide_is_not(org, client):
    member = org.members["G-SH01"]
    url = reverse("phone-member", kwargs={"membership_id": member.pk})
    client.force_login(org.users["guide_sh01"])
    assert client.get(url).status_code == 200
    assert client.get(reverse("phone-members")).status_code == 200
    assert not PersonalDataAccess.objects.exists()

    client.force_login(org.users["hq"])
    client.get(url)

    record = PersonalDataAccess.objects.get()
    assert (record.kind, record.customer_ids, record.where) == (
        "phone_page",
        [member.customer_id],
        url,
    )


def test_hq_reading_orders_with_full_member_phones_is_logged(org, client):
    from tests.commissions.factories import OrderFactory

    member = org.members["G-SH01"]
    order = OrderFactory(brand=member.brand, store=member.store, member_phone=member.customer.phone)
    client.force_login(org.users["manager_sh01"])
    client.get(reverse("admin:commissions_order_changelist"))  # masked
    assert not PersonalDataAccess.objects.exists()

    client.force_login(org.users["hq"])
    client.get(reverse("admin:commissions_order_change", args=[order.pk]))

    record = PersonalDataAccess.objects.get()
    assert (record.kind, record.customer_ids) == ("admin_detail", [member.customer_id])


def test_below_hq_the_customer_page_shows_the_birthday_as_month_and_day(org, client):
    customer = org.members["G-SH01"].customer
    Customer.objects.filter(pk=customer.pk).update(birthday=dt.date(1990, 7, 14))
    client.force_login(org.users["manager_sh01"])

    page = client.get(reverse("admin:customers_customer_change", args=[customer.pk]))

    assert page.status_code == 200
    assert "07-14" in page.content.decode() and "1990" not in page.content.decode()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the append-only trigger is PostgreSQL's"
)
def test_the_database_refuses_to_rewrite_or_delete_an_access_record(org):
    from django.db import IntegrityError, transaction

    from tests.factories import UserFactory

    viewer = UserFactory(username="hq-2", role="hq_ops")
    token_client(viewer).get(MEMBERS_URL)
    record = PersonalDataAccess.objects.get()

    with pytest.raises(IntegrityError), transaction.atomic():
        PersonalDataAccess.objects.filter(pk=record.pk).update(row_count=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        PersonalDataAccess.objects.filter(pk=record.pk).delete()
    # A deleted user's records lose the link and keep the name
    viewer.delete()
    record.refresh_from_db()
    assert (record.actor, record.actor_name, record.row_count) == (None, "hq-2", 4)


def test_the_xlsx_export_is_logged_like_the_csv_one(org, client):
    import io

    from openpyxl import load_workbook

    client.force_login(org.users["hq"])
    member = org.members["G-SH02"]

    export = client.post(
        reverse("admin:customers_membership_changelist"),
        {"action": "export_xlsx", "_selected_action": [member.pk]},
    )

    sheet = load_workbook(io.BytesIO(b"".join(export.streaming_content))).active
    assert [row[1] for row in sheet.iter_rows(values_only=True)][1:] == [member.customer.phone]
    record = PersonalDataAccess.objects.get()
    assert (record.kind, record.row_count, record.customer_ids) == (
        "export",
        1,
        [member.customer_id],
    )
