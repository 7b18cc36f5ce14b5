"""What the customers app tells the apps above it, as Django signals.

Sent inside the service's transaction; receivers queue their work on commit.
"""

from django.dispatch import Signal

# Pending memberships were resolved: bound to a store (and guide), or left
# unassigned. Orders that arrived while they were pending, or a moment before
# the sign-up, may now credit the member's guide. Arguments: ``membership_ids``
# (a list; ids that another path resolved first may be among them).
membership_bound = Signal()

# A member withdrew their consent: marketing use stops at once. Arguments:
# ``membership_id``.
membership_consent_withdrawn = Signal()

# A membership's personal information was erased (PIPL Art. 47). Receivers
# scrub what their app holds of it, in the same transaction. Arguments:
# ``membership_id``, ``brand_id``, ``phone`` (the number that was erased),
# ``pseudonym`` (what replaces it where a row must stay, e.g. orders) and
# ``customer_erased`` (True when no membership holds the number any longer).
membership_erased = Signal()
