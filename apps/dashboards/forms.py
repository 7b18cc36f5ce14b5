"""Forms of the phone pages: the member list's filters and the profile's actions."""

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.engagement.models import FollowUpTask
from apps.stores.models import Brand


class MemberFilterForm(forms.Form):
    q = forms.CharField(label=_("Name or full phone number"), required=False, max_length=50)
    brand = forms.ModelChoiceField(
        label=_("Brand"), queryset=Brand.objects.none(), required=False, empty_label=_("All brands")
    )
    tag = forms.TypedChoiceField(label=_("Tag"), coerce=int, required=False, empty_value=None)
    dormant = forms.BooleanField(label=_("No purchase for 90 days"), required=False)

    def __init__(self, *args, brands, tags, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["brand"].queryset = brands
        self.fields["tag"].choices = [("", _("All tags"))] + [(t.pk, t.name) for t in tags]


class NoteForm(forms.Form):
    body = forms.CharField(
        label=_("Note"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class TagForm(forms.Form):
    name = forms.CharField(label=_("Tag"), max_length=32)


class CloseFollowUpForm(forms.Form):
    task = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ChoiceField(
        choices=[(FollowUpTask.Status.DONE, _("Done")), (FollowUpTask.Status.SKIPPED, _("Skip"))]
    )
    outcome_note = forms.CharField(label=_("Outcome"), max_length=2000, required=False)


class ManualFollowUpForm(forms.Form):
    title = forms.CharField(label=_("What should the guide do?"), max_length=200)
    due_date = forms.DateField(label=_("Due"), widget=forms.DateInput(attrs={"type": "date"}))
