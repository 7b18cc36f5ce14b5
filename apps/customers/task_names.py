"""Names of the members app's Celery tasks.

``tasks.py`` declares them; services and receivers queue them by name
through ``apps.core.tasking``, so services never import the task module.
"""

MEMBERSHIP_ASSIGN = "customers.membership_assign"
MEMBERSHIP_ASSIGN_WITH_BACKLOG = "customers.membership_assign_with_backlog"
MEMBERSHIPS_ASSIGN_WAITING = "customers.memberships_assign_waiting"
MEMBERSHIPS_ASSIGN_PENDING = "customers.memberships_assign_pending"
PENDING_MEMBERSHIPS_SWEEP = "customers.pending_memberships_sweep"
STORE_MEMBERS_RELOCATE = "customers.store_members_relocate"
GUIDE_MEMBERS_HANDOVER = "customers.guide_members_handover"
STORE_UNGUIDED_MEMBERS_ASSIGN = "customers.store_unguided_members_assign"
