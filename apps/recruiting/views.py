"""The public sign-up pages (no login) and the staff's QR code images and posters."""

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from apps.core.client_ip import client_ip
from apps.core.scoping import mask_phone
from apps.customers.models import Membership
from apps.recruiting.forms import SignUpForm
from apps.recruiting.links import link_read, welcome_read, welcome_token
from apps.recruiting.qr import qr_png, qr_svg, qr_svg_inline
from apps.recruiting.selectors import (
    Problem,
    SignUpTarget,
    privacy_notice_current,
    signup_target,
)
from apps.recruiting.services import address_rate_check, member_sign_up, signup_code_send
from apps.stores.models import Brand

SEND_CODE, JOIN = "send_code", "join"


def client_address(request) -> str:
    """The shopper's address, through the trusted proxies (``apps.core.client_ip``)."""
    return client_ip(request)


def _errors_of(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {field: list(messages) for field, messages in exc.message_dict.items()}
    return {"__all__": exc.messages}


def _sign_up_page(request, target: SignUpTarget):
    """Show and handle the sign-up form for ``target`` (a code's brand and store, or a brand)."""
    notice = privacy_notice_current(brand=target.brand)
    form = SignUpForm(data=request.POST if request.method == "POST" else None)
    errors: dict[str, list[str]] = {}
    code_sent = False
    if request.method == "POST":
        action = request.POST.get("action", JOIN)
        try:
            if action == SEND_CODE:
                signup_code_send(
                    phone=request.POST.get("phone", ""), address=client_address(request)
                )
                code_sent = True
            elif form.is_valid():
                address_rate_check(address=client_address(request))
                data = form.cleaned_data
                signup = member_sign_up(
                    target=target,
                    notice=notice,
                    phone=data["phone"],
                    code=data["code"],
                    name=data["name"],
                    birthday=data["birthday"],
                    latitude=data["latitude"],
                    longitude=data["longitude"],
                )
                token = welcome_token(
                    signup.membership.pk,
                    problems=target.problems,
                    existing=not signup.result.created,
                )
                return redirect("recruiting:welcome", token=token)
            else:
                errors = {field: list(messages) for field, messages in form.errors.items()}
        except ValidationError as exc:
            errors = _errors_of(exc)
    context = {
        "target": target,
        "notice": notice,
        "values": request.POST if request.method == "POST" else {},
        "errors": errors,
        "form_errors": errors.get("__all__", []),
        "code_sent": code_sent,
        "problems": target.problems,
    }
    status = 400 if errors else 200
    return TemplateResponse(request, "recruiting/join.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def join(request, token: str):
    """The page a recruiting QR code opens: sign up with the code's brand, store and guide."""
    target = signup_target(link_read(token))
    if target.brand is None:
        return TemplateResponse(
            request,
            "recruiting/link_bad.html",
            {"brands": Brand.objects.order_by("code")},
            status=404 if request.method == "GET" else 400,
        )
    return _sign_up_page(request, target)


@never_cache
@require_http_methods(["GET", "POST"])
def join_brand(request, brand_code: str):
    """Join a brand with no code (from the page shown for a bad link): the nearest store."""
    brand = get_object_or_404(Brand, code=brand_code)
    target = SignUpTarget(brand, None, None, None, None, (Problem.LINK_BAD,))
    return _sign_up_page(request, target)


@never_cache
def welcome(request, token: str):
    """After signing up: who the member's guide is, and at which store."""
    welcome = welcome_read(token)
    membership = (
        Membership.objects.select_related("customer", "brand", "store", "guide")
        .filter(pk=welcome.membership_id)
        .first()
        if welcome
        else None
    )
    if membership is None:
        raise Http404
    context = {
        "membership": membership,
        "masked_phone": mask_phone(membership.customer.phone),
        "pending": membership.assignment_status == Membership.Status.PENDING,
        "problems": welcome.problems,
        "existing": welcome.existing,
    }
    return TemplateResponse(request, "recruiting/welcome.html", context)


# Staff pages (behind the admin login: see config/urls.py) ------------------------------------


def _join_url(request, token: str) -> str:
    if link_read(token).code is None:
        raise Http404
    return request.build_absolute_uri(reverse("recruiting:join", kwargs={"token": token}))


def qr_code_png(request, token: str):
    response = HttpResponse(qr_png(_join_url(request, token)), content_type="image/png")
    response["Content-Disposition"] = 'inline; filename="member-qr.png"'
    return response


def qr_code_svg(request, token: str):
    response = HttpResponse(qr_svg(_join_url(request, token)), content_type="image/svg+xml")
    response["Content-Disposition"] = 'inline; filename="member-qr.svg"'
    return response


def qr_poster(request, token: str):
    """A printable A4 poster: the brand, the store, the guide and the big QR code."""
    url = _join_url(request, token)
    target = signup_target(link_read(token))
    context = {
        "brand": target.brand,
        "store": target.code_store,
        "guide": target.code_guide,
        "url": url,
        "qr": qr_svg_inline(url),
        "title": _("Join us"),
    }
    return TemplateResponse(request, "recruiting/poster.html", context)
