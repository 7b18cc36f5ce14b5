"""Checks of the ledger that apps above commissions add to ``verify_ledger``.

An app that books entries of its own (the incentives app's bonuses) knows
what they must equal; it registers a provider in its ``AppConfig.ready()``.
A provider is called with the brand id checked (None for every brand) and
the number of examples to keep, and returns the breaches it found, as
``apps.commissions.selectors.Breach`` rows.
"""

from collections.abc import Callable

LedgerCheckProvider = Callable[..., list]
_providers: list[LedgerCheckProvider] = []


def ledger_check_register(provider: LedgerCheckProvider) -> None:
    """Add ``provider``'s checks to every ``verify_ledger`` run (once, however often called)."""
    if provider not in _providers:
        _providers.append(provider)


def ledger_checks_run(*, brand_id: int | None, examples: int) -> list:
    """Run every registered provider; return their breaches."""
    breaches = []
    for provider in _providers:
        breaches.extend(provider(brand_id=brand_id, examples=examples))
    return breaches
