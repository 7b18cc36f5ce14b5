"""What the guides app tells the apps above it, as Django signals.

Sent inside the service's transaction; receivers queue their work on commit.
"""

from django.dispatch import Signal

# A guide stopped serving members of a store: deactivated, or moved to another
# store. Arguments: ``guide_id``.
guide_left = Signal()
# A store gained an available guide (a new or reactivated guide, or one who
# moved in). Arguments: ``store_id``.
guide_available = Signal()
