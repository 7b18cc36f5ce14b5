"""The phone pages of guides and store managers, in the admin's look.

My members (cards), a member's profile, my follow-ups, my commission and the
Recruit page. Every page reads through the selectors with the caller's scope,
masks phones for every role but HQ and shows no coordinates to the others.
"""

import datetime as dt

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.commissions.models import Settlement
from apps.commissions.selectors import commission_entry_list, commission_shares, settlement_list
from apps.core.roles import Role, user_has_role
from apps.core.scoping import mask_phone, scope_for_request, scope_queryset
from apps.customers.models import PersonalDataAccess
from apps.customers.services import personal_data_access_record
from apps.dashboards.forms import (
    CloseFollowUpForm,
    ManualFollowUpForm,
    MemberFilterForm,
    NoteForm,
    TagForm,
)
from apps.dashboards.history import event_sentence
from apps.engagement import selectors as engagement
from apps.engagement import services as engagement_services
from apps.recruiting.links import RecruitCode, link_token
from apps.recruiting.qr import qr_svg_inline
from apps.recruiting.selectors import recruit_counts
from apps.stores.models import Brand, Store

MEMBERS_PER_PAGE = 20
ENTRIES_PER_PAGE = 20
SETTLEMENTS_SHOWN = 20
UPCOMING_DAYS = 7


def _render(request, template: str, context: dict, *, status: int = 200):
    return TemplateResponse(
        request, template, {**admin.site.each_context(request), **context}, status=status
    )


def _guide(request):
    return getattr(request.user, "guide", None)


def _brands_in_view(request, scope):
    """The brands a caller works with: their store's, or every brand for wider roles."""
    guide = _guide(request)
    if guide is not None and not scope.everything:
        return guide.store.brands.order_by("code")
    return Brand.objects.order_by("code")


def is_manager(request, scope) -> bool:
    return not scope.is_guide_only and (
        user_has_role(request.user, Role.STORE_MANAGER, Role.HQ_OPS) or scope.everything
    )


def members_view(request):
    """My members: cards with tags, last purchase, 12 months' spend and the next follow-up."""
    scope = scope_for_request(request)
    today = timezone.localdate()
    brands = _brands_in_view(request, scope)
    form = MemberFilterForm(
        request.GET or None,
        brands=brands,
        tags=engagement.brand_tags(brand_ids=brands.values("pk")),
    )
    filters = form.cleaned_data if form.is_valid() else {}
    members = engagement.member_list(
        scope=scope,
        today=today,
        search=filters.get("q") or "",
        brand_id=filters["brand"].pk if filters.get("brand") else None,
        tag_id=filters.get("tag"),
        no_purchase_days=engagement.DORMANT_DAYS_DEFAULT if filters.get("dormant") else None,
    )
    page = Paginator(members, MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
    for membership in page:
        membership.shown_phone = _phone(membership.customer.phone, scope)
    _access_record(request, scope, [m.customer_id for m in page])
    query = request.GET.copy()
    query.pop("page", None)
    return _render(
        request,
        "admin/phone/members.html",
        {
            "title": _("My members"),
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "today": today,
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


def _phone(phone: str, scope) -> str:
    return mask_phone(phone) if scope.masks_phones else phone


def _access_record(request, scope, customer_ids) -> None:
    """Log a page that showed full numbers (HQ's); masked pages write nothing."""
    if not scope.masks_phones:
        personal_data_access_record(
            actor=request.user,
            kind=PersonalDataAccess.Kind.PHONE_PAGE,
            where=request.path,
            customer_ids=customer_ids,
            filters=request.GET.dict(),
        )


def member_view(request, membership_id: int):
    """A member's profile: purchases, commission, tags, notes, follow-ups, binding history."""
    scope = scope_for_request(request)
    membership = engagement.member_get(scope=scope, membership_id=membership_id)
    if membership is None:
        raise Http404
    can_assign = is_manager(request, scope)
    forms = {
        "note_form": NoteForm(),
        "tag_form": TagForm(),
        "manual_form": ManualFollowUpForm(initial={"due_date": timezone.localdate()}),
    }
    if request.method == "POST":
        answer = _member_action(request, membership, can_assign, forms)
        if answer is not None:
            return answer
    if request.method == "GET" and membership.customer.erased_at is None:
        _access_record(request, scope, [membership.customer_id])
    viewer = getattr(_guide(request), "pk", None)
    purchases = engagement.member_purchases(membership=membership, scope=scope)
    context = {
        "title": membership.customer.name or _phone(membership.customer.phone, scope),
        "membership": membership,
        "phone": _phone(membership.customer.phone, scope),
        "shows_location": not scope.masks_phones,
        "purchases": purchases,
        "spent": sum((p.net for p in purchases), start=0),
        "earned": sum((p.commission for p in purchases), start=0),
        "tags": engagement.member_tags(membership=membership),
        "notes": engagement.member_notes(membership=membership),
        "follow_ups": engagement.member_follow_ups(membership=membership),
        "history": [
            event_sentence(event, membership, viewer)
            for event in engagement.member_events(membership=membership)
        ],
        "can_assign": can_assign,
        "today": timezone.localdate(),
        **forms,
    }
    status = 400 if any(f.is_bound and f.errors for f in forms.values()) else 200
    return _render(request, "admin/phone/member.html", context, status=status)


def _member_action(request, membership, can_assign, forms):
    """Handle one POST of the profile page; return a redirect, or None to show form errors."""
    action = request.POST.get("action")
    done = reverse("phone-member", kwargs={"membership_id": membership.pk})
    form_classes = {
        "note": ("note_form", NoteForm),
        "tag_add": ("tag_form", TagForm),
        "manual": ("manual_form", ManualFollowUpForm),
        "close": (None, CloseFollowUpForm),
    }
    if action == "tag_remove":
        try:
            tag_id = int(request.POST.get("tag", ""))
        except ValueError:
            raise Http404 from None
        engagement_services.tag_remove(membership=membership, tag_id=tag_id)
        return redirect(done)
    if action not in form_classes:
        raise Http404
    name, form_class = form_classes[action]
    form = form_class(request.POST)
    if name:
        forms[name] = form
    if not form.is_valid():
        if name is None:
            messages.error(request, " ".join(m for ms in form.errors.values() for m in ms))
            return redirect(done)
        return None
    data = form.cleaned_data
    try:
        if action == "note":
            engagement_services.note_add(
                membership=membership, body=data["body"], user=request.user
            )
        elif action == "tag_add":
            engagement_services.tag_add(membership=membership, name=data["name"], user=request.user)
        elif action == "manual":
            if not can_assign:
                raise PermissionDenied
            engagement_services.follow_up_create_manual(
                membership=membership,
                title=data["title"],
                due_date=data["due_date"],
                user=request.user,
            )
        else:
            _follow_up_close(request, data, membership_id=membership.pk)
    except ValidationError as exc:
        if name is None:
            messages.error(request, " ".join(exc.messages))
            return redirect(done)
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return None
    return redirect(done)


def _follow_up_close(request, data, *, membership_id=None):
    tasks = engagement.follow_up_list(scope=scope_for_request(request), status=None)
    if membership_id is not None:
        tasks = tasks.filter(membership_id=membership_id)
    task = tasks.filter(pk=data["task"]).first()
    if task is None:
        raise Http404
    engagement_services.follow_up_close(
        task=task, status=data["status"], outcome_note=data["outcome_note"], user=request.user
    )


def follow_ups_view(request):
    """My follow-ups: overdue, today's and the next days'; a manager sees each guide's rate."""
    scope = scope_for_request(request)
    today = timezone.localdate()
    if request.method == "POST":
        form = CloseFollowUpForm(request.POST)
        try:
            if not form.is_valid():
                raise ValidationError(list(form.errors.values()))
            _follow_up_close(request, form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect("phone-follow-ups")
    tasks = list(
        engagement.follow_up_list(scope=scope).filter(
            due_date__lte=today + dt.timedelta(days=UPCOMING_DAYS)
        )[:200]
    )
    for task in tasks:
        task.shown_member = task.membership.customer.name or _phone(
            task.membership.customer.phone, scope
        )
    return _render(
        request,
        "admin/phone/follow_ups.html",
        {
            "title": _("Follow-ups"),
            "overdue": [t for t in tasks if t.due_date < today],
            "due_today": [t for t in tasks if t.due_date == today],
            "upcoming": [t for t in tasks if t.due_date > today],
            "completion": engagement.follow_up_completion(
                scope=scope, first_day=today.replace(day=1), today=today
            )
            if not scope.is_guide_only
            else None,
            "today": today,
        },
    )


def commission_view(request):
    """My commission: statement cards (amount first) and settlements; a manager sees shares."""
    scope = scope_for_request(request)
    today = timezone.localdate()
    entries = commission_entry_list(scope=scope).order_by("-business_date", "-pk")
    page = Paginator(entries, ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    settlements = list(
        settlement_list(scope=scope).order_by("-period_end", "-pk")[:SETTLEMENTS_SHOWN]
    )
    return _render(
        request,
        "admin/phone/commission.html",
        {
            "title": _("My commission"),
            "page": page,
            "settlements": settlements,
            "open_status": Settlement.Status.OPEN,
            "shares": None
            if scope.is_guide_only
            else commission_shares(scope=scope, first_day=today.replace(day=1), today=today),
            "today": today,
        },
    )


def recruit_codes(request, *, guide=None, store=None, with_images: bool = True) -> list[dict]:
    """The recruiting codes to hand out: a guide's per brand (a manager's store's too),
    or, with ``store``, the store's own."""
    if guide is not None:
        store = guide.store
        kinds = [("guide", guide.pk)]
        if guide.role == guide.Role.STORE_MANAGER:
            kinds.append(("store", None))
    else:
        kinds = [("store", None)]
    codes = []
    brands = list(store.brands.order_by("code"))
    for kind, guide_id in kinds:
        for brand in brands:
            token = link_token(RecruitCode(brand.pk, store.pk, guide_id))
            url = request.build_absolute_uri(reverse("recruiting:join", kwargs={"token": token}))
            code = {"kind": kind, "brand": brand, "url": url}
            if with_images:
                code.update(
                    qr=qr_svg_inline(url),
                    png=reverse("recruit-qr-png", kwargs={"token": token}),
                    svg=reverse("recruit-qr-svg", kwargs={"token": token}),
                    poster=reverse("recruit-poster", kwargs={"token": token}),
                )
            codes.append(code)
    return codes


def recruit_view(request):
    """Recruit: the guide's QR codes, their links, and who joined through them.

    Region managers and HQ open a store's codes with ``?store=<code>`` (a
    store in their scope).
    """
    guide = _guide(request)
    today = timezone.localdate()
    store_code = request.GET.get("store")
    if store_code and not scope_for_request(request).is_guide_only:
        store = (
            scope_queryset(
                Store.objects.all(), scope_for_request(request), store_field="pk", guide_field=None
            )
            .filter(code=store_code)
            .first()
        )
        if store is None:
            raise Http404
        return _render(
            request,
            "admin/phone/recruit.html",
            {
                "title": _("Recruit members"),
                "codes": recruit_codes(request, store=store),
                "mine": None,
                "store_counts": recruit_counts(store=store, today=today),
            },
        )
    if guide is None or not guide.is_active:
        raise Http404
    is_store_manager = guide.role == guide.Role.STORE_MANAGER
    return _render(
        request,
        "admin/phone/recruit.html",
        {
            "title": _("Recruit members"),
            "guide": guide,
            "codes": recruit_codes(request, guide=guide),
            "mine": recruit_counts(guide=guide, today=today),
            "store_counts": recruit_counts(store=guide.store, today=today)
            if is_store_manager
            else None,
        },
    )
