"""What the stores app tells the apps above it, as Django signals.

Sent inside the service's transaction; receivers queue their work on commit.
"""

from django.dispatch import Signal

# An active store was closed (deactivated). Arguments: ``store_id``.
store_closed = Signal()
