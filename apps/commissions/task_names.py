"""Names of the commissions app's Celery tasks.

``tasks.py`` declares them; services queue them by name through
``apps.core.tasking`` and beat's schedule (``apps.core.schedules``) names
them, so services never import the task module.
"""

ORDER_ENTRIES_WRITE = "commissions.order_entries_write"
ORDERS_WAITING_WRITE = "commissions.orders_waiting_write"
ORDERS_ENTRIES_WRITE = "commissions.orders_entries_write"
SETTLEMENT_RUN_NIGHTLY = "commissions.settlement_run_nightly"
SETTLEMENT_RUN_MONTHLY = "commissions.settlement_run_monthly"
MEMBER_ORDERS_REATTRIBUTE = "commissions.member_orders_reattribute"
