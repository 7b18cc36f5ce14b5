"""What the customers app tells the apps above it, as Django signals.

Sent inside the service's transaction; receivers queue their work on commit.
"""

from django.dispatch import Signal

# Pending memberships were resolved: bound to a store (and guide), or left
# unassigned. Orders that arrived while they were pending, or a moment before
# the sign-up, may now credit the member's guide. Arguments: ``membership_ids``
# (a list; ids that another path resolved first may be among them).
membership_bound = Signal()
