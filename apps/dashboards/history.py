"""A member's binding history told in words ("Joined through 何杰's QR code on 17 Oct")."""

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from apps.customers.models import AssignmentEvent, Membership

Reason = AssignmentEvent.Reason


def _who(guide, viewer_guide_id) -> str:
    if guide is None:
        return _("no guide yet")
    return _("you") if guide.pk == viewer_guide_id else guide.name


def event_sentence(event: AssignmentEvent, membership: Membership, viewer_guide_id=None) -> str:
    """Say what ``event`` did to the membership, naming the viewer "you"."""
    day = date_format(timezone.localtime(event.created_at), "DATE_FORMAT")
    to = _who(event.to_guide, viewer_guide_id)
    store = event.to_store.name if event.to_store else "-"
    values = {"day": day, "to": to, "store": store}
    if event.reason == Reason.EXPLICIT:
        if event.to_guide is not None and event.to_guide_id == membership.requested_guide_id:
            if event.to_guide_id == viewer_guide_id:
                return _("Joined through your QR code at %(store)s on %(day)s") % values
            return _("Joined through %(to)s's QR code at %(store)s on %(day)s") % values
        return _("Joined through the QR code of %(store)s on %(day)s; guide: %(to)s") % values
    if event.reason == Reason.NEW_MEMBER:
        return _("Joined on %(day)s and matched to the nearest store, %(store)s; guide: %(to)s") % (
            values
        )
    if event.reason == Reason.GUIDE_LEFT:
        values["from"] = _who(event.from_guide, viewer_guide_id)
        return _("Moved to %(to)s when %(from)s left, on %(day)s") % values
    if event.reason == Reason.STORE_CLOSED:
        values["from"] = event.from_store.name if event.from_store else "-"
        return _("Moved to %(store)s (%(to)s) when %(from)s closed, on %(day)s") % values
    if event.reason == Reason.MANUAL:
        values["from"] = _who(event.from_guide, viewer_guide_id)
        return _("Moved from %(from)s to %(to)s by a manager on %(day)s") % values
    return _("Moved to %(to)s at %(store)s on %(day)s") % values
