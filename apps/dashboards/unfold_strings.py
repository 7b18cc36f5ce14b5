"""Strings of django-unfold's templates that Django's own catalogue does not translate.

Unfold ships no Chinese catalogue; listing its strings here keeps them in the
project's (``makemessages`` picks up ``gettext_noop``), where each has its
zh-hans translation. Templates look them up in every installed catalogue, so
nothing imports this module.
"""

from django.utils.translation import gettext_noop

UNFOLD_STRINGS = [
    gettext_noop("Add row"),
    gettext_noop("All applications"),
    gettext_noop("Apply Filters"),
    gettext_noop("Available shortcuts"),
    gettext_noop("Cancel"),
    gettext_noop("Changelist shortcuts"),
    gettext_noop("Choose file to upload"),
    gettext_noop("Click to cancel"),
    gettext_noop("Click to download"),
    gettext_noop("Command tool shortcuts"),
    gettext_noop("Create new record"),
    gettext_noop("Dark"),
    gettext_noop("False"),
    gettext_noop("Forgotten your password or username?"),
    gettext_noop("General"),
    gettext_noop("Global shortcuts"),
    gettext_noop("Go back"),
    gettext_noop("Image preview"),
    gettext_noop("Light"),
    gettext_noop("Navigate"),
    gettext_noop("No data"),
    gettext_noop("No results found"),
    gettext_noop("Nothing matched your search"),
    gettext_noop("Open command tool"),
    gettext_noop("Open selection"),
    gettext_noop("Open selection in new tab"),
    gettext_noop("Open shortcuts list"),
    gettext_noop("Recent searches"),
    gettext_noop("Record picture"),
    gettext_noop("Reset filters"),
    gettext_noop("Return to site"),
    gettext_noop("Run the selected action"),
    gettext_noop("Search apps and models..."),
    gettext_noop("Select"),
    gettext_noop("Submit"),
    gettext_noop("This item will be deleted."),
    gettext_noop("This page yielded into no results."),
    gettext_noop("Toggle dark/light mode"),
    gettext_noop("Toggle filter"),
    gettext_noop("Toggle password visibility"),
    gettext_noop("Toggle sidebar"),
    gettext_noop("True"),
    gettext_noop("Type to search"),
    gettext_noop("You have been successfully logged out from the administration"),
]
