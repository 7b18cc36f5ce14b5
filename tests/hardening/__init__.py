"""Fault tests: killed workers, a restarted broker, replayed webhooks.

Each ends with ``manage.py verify_ledger``.
"""
