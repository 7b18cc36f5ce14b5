"""Batch endpoints: many items in one request, each with its own outcome.

A batch request is ``{"items": [...]}``, each item exactly the body its
single endpoint takes, at most ``BATCH_MAX_ITEMS``. Every item is validated
by the single endpoint's serializer and written by the same service; the
answer lists each item's outcome in order. One bad item never sinks the
others; the writes commit chunk by chunk (``BATCH_CHUNK_ITEMS`` items a
transaction), so a request cut short leaves whole chunks behind and a
resend of the same batch completes it (what is in answers ``replayed``).
"""

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.relations import SlugRelatedField

from apps.core.lookup_cache import cached_lookup, lookup_cache_register

BATCH_MAX_ITEMS = 1_000
CONFLICT_MESSAGE = _("This number exists with different content.")
# Items written per transaction: large enough that a statement serves many
# rows, small enough that a row lock or a failure holds back little.
BATCH_CHUNK_ITEMS = 250


class Outcome:
    CREATED = "created"
    REPLAYED = "replayed"  # the same number with the same body: nothing written
    CONFLICT = "conflict"  # the same number with another body: nothing written
    INVALID = "invalid"  # refused, with field messages: nothing written


@dataclass
class ItemOutcome:
    """What became of one item of a batch: ``status`` (``Outcome``), the object, or the errors."""

    status: str
    obj: Any = None
    errors: dict[str, list[str]] = field(default_factory=dict)


def validation_errors_of(exc) -> dict[str, list[str]]:
    """Return a Django ``ValidationError`` as field → messages (``non_field_errors`` for none)."""
    if hasattr(exc, "error_dict"):
        errors = {name: [str(m) for m in msgs] for name, msgs in exc.message_dict.items()}
        if "__all__" in errors:
            errors["non_field_errors"] = errors.pop("__all__")
        return errors
    return {"non_field_errors": [str(m) for m in exc.messages]}


class BatchInputSerializer(serializers.Serializer):
    """The envelope of a batch: 1 to ``BATCH_MAX_ITEMS`` items, each checked on its own later."""

    items = serializers.ListField(
        allow_empty=False,
        max_length=BATCH_MAX_ITEMS,
        error_messages={"max_length": _("A batch holds at most {max_length} items.")},
        help_text=_(
            "1 to 1,000 items, each the body the single endpoint takes. Each item is "
            "idempotent on its own key, so an interrupted batch is sent again unchanged."
        ),
    )


class BatchItemResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text=_("The item's position in the request, from 0."))
    status = serializers.ChoiceField(
        choices=[Outcome.CREATED, Outcome.REPLAYED, Outcome.CONFLICT, Outcome.INVALID],
        help_text=_(
            "created (written now), replayed (already there: nothing written), conflict (the "
            "key exists with other content) or invalid (see errors)."
        ),
    )
    errors = serializers.JSONField(
        required=False, help_text=_("Field → messages, for an invalid or conflicting item.")
    )
    result = serializers.JSONField(
        required=False,
        help_text=_("What the single endpoint answers for the item (created or replayed)."),
    )


class BatchResultSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text=_("How many items were written now."))
    replayed = serializers.IntegerField(
        help_text=_("How many were there already (same key, same content): nothing written.")
    )
    conflict = serializers.IntegerField(
        help_text=_("How many keys exist with other content (nothing written for them).")
    )
    invalid = serializers.IntegerField(help_text=_("How many items were refused, with errors."))
    items = BatchItemResultSerializer(
        many=True, help_text=_("Every item's outcome, in the order sent.")
    )


def batch_validate(data, *, serializer_class, context: dict | None = None):
    """Check a batch's envelope (400 when it is not one) and each item with ``serializer_class``.

    Returns (outcomes, valid): ``outcomes`` has one slot per item, filled
    with the ``invalid`` ones; ``valid`` lists (index, validated data) of the
    others, in order. The objects items name by code are read once for the
    whole batch (``related_memo_prefetch``).
    """
    envelope = BatchInputSerializer(data=data)
    envelope.is_valid(raise_exception=True)
    items = envelope.validated_data["items"]
    memo = related_memo_prefetch(serializer_class, items)
    # One serializer checks every item, as a ``many=True`` list does: its
    # fields are built once, not once an item.
    serializer = serializer_class(context={**(context or {}), "related_memo": memo})
    outcomes: list[ItemOutcome | None] = [None] * len(items)
    valid = []
    for index, item in enumerate(items):
        try:
            valid.append((index, serializer.run_validation(item)))
        except serializers.ValidationError as exc:
            outcomes[index] = ItemOutcome(Outcome.INVALID, errors=_as_field_errors(exc.detail))
    return outcomes, valid


def _as_field_errors(detail):
    if isinstance(detail, dict):
        return detail
    return {"non_field_errors": detail if isinstance(detail, list) else [detail]}


def batch_answer(outcomes: list[ItemOutcome], represent_many) -> dict:
    """Return the batch's answer: counts per outcome and each item's outcome, in order.

    Created and replayed items carry what the single endpoint answers:
    ``represent_many(objects)`` returns it for all of them at once (a
    ``many=True`` serializer builds its fields once, not once an item).
    """
    counts = {Outcome.CREATED: 0, Outcome.REPLAYED: 0, Outcome.CONFLICT: 0, Outcome.INVALID: 0}
    shown = [o.obj for o in outcomes if o.status in (Outcome.CREATED, Outcome.REPLAYED)]
    results = iter(represent_many(shown))
    items = []
    for index, outcome in enumerate(outcomes):
        counts[outcome.status] += 1
        item = {"index": index, "status": outcome.status}
        if outcome.errors:
            item["errors"] = outcome.errors
        elif outcome.status == Outcome.CONFLICT:
            item["errors"] = {"non_field_errors": [str(CONFLICT_MESSAGE)]}
        if outcome.status in (Outcome.CREATED, Outcome.REPLAYED):
            item["result"] = next(results)
        items.append(item)
    return {**counts, "items": items}


def related_memo_prefetch(serializer_class, items: list[dict]) -> dict:
    """Read every object the items name through the serializer's slug fields, one query a field.

    Returns the memo ``MemoSlugRelatedField`` answers from, keyed by the
    field's model and slug field: the same queryset and the same answers as
    one lookup per item, in a few statements for the whole batch.
    """
    memo: dict = {}
    for name, field_ in serializer_class().fields.items():
        if not isinstance(field_, SlugRelatedField) or field_.read_only:
            continue
        values = {
            str(item[name])
            for item in items
            if isinstance(item, dict) and isinstance(item.get(name), str | int)
            and not isinstance(item.get(name), bool)
        }  # fmt: skip
        key = (field_.queryset.model, field_.slug_field)
        found = memo.setdefault(key, {})
        if values:
            rows = field_.queryset.filter(**{f"{field_.slug_field}__in": values})
            found.update({str(getattr(row, field_.slug_field)): row for row in rows})
    return memo


class MemoSlugRelatedField(SlugRelatedField):
    """A slug field that answers from the serializer context's ``related_memo`` when it has one.

    Without a memo (the single endpoints) it reads the row, through the
    lookup cache when ``cache_lookups`` is set (``apps.core.lookup_cache``:
    for an identity that never changes, such as a code, over a queryset of
    every row). The messages are the same either way.
    """

    def __init__(self, *, cache_lookups: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.cache_lookups = cache_lookups
        if cache_lookups:
            lookup_cache_register(self.queryset.model, self.slug_field)

    def to_internal_value(self, data):
        if not isinstance(data, str | int) or isinstance(data, bool):
            return super().to_internal_value(data)
        model = self.get_queryset().model
        memo = self.context.get("related_memo")
        if memo is not None and (model, self.slug_field) in memo:
            found = memo[(model, self.slug_field)].get(str(data))
        elif self.cache_lookups:
            found = cached_lookup(
                model, self.slug_field, str(data),
                lambda: self.get_queryset().filter(**{self.slug_field: str(data)}).first(),
            )  # fmt: skip
        else:
            return super().to_internal_value(data)
        if found is None:
            self.fail("does_not_exist", slug_name=self.slug_field, value=str(data))
        return found
