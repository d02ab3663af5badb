"""What a reader without `pii:read` may not see, taken from the catalogue's PERSONAL_FIELDS so the two agree.

Two kinds of personal field reach the read side: touchpoint fields copied into timeline entries (note,
handled_by, attributes, identity) and personal preferences (name_to_use) wherever preferences show: a customer
view's `preferences` (with its `fallback`), an account member's `preferences`, a contact answer's `how`.
`redact` walks any answer document and removes both, so one function serves every route and every shape.
"""

from typing import Any, TypeVar, cast

from contracts.catalog import PERSONAL_FIELDS
from services.projection.domain.events import PREFERENCE_STATED, TOUCHPOINT_RECORDED

# Touchpoint fields are top-level names in `data` ("identity", not "identity.value": the whole object goes).
PERSONAL_KEYS = frozenset(path.split(".", 1)[0] for path in PERSONAL_FIELDS.get(TOUCHPOINT_RECORDED, ()))
PERSONAL_PREFERENCES = frozenset(
    path.removeprefix("preferences.") for path in PERSONAL_FIELDS.get(PREFERENCE_STATED, ())
    if path.startswith("preferences.")
)  # fmt: skip
_PREFERENCE_HOLDERS = frozenset({"preferences", "how"})  # dicts keyed by preference name
Document = TypeVar("Document")


def redact(document: Document) -> Document:
    """A copy of `document` without personal fields; the original (perhaps cached or shared) is left alone."""
    return cast(Document, _without_personal_fields(document))


def _without_personal_fields(document: Any) -> Any:
    if isinstance(document, dict):
        kept: dict[str, Any] = {}
        for key, value in document.items():
            if key in PERSONAL_KEYS:
                continue
            if key in _PREFERENCE_HOLDERS and isinstance(value, dict):
                value = {name: entry for name, entry in value.items() if name not in PERSONAL_PREFERENCES}
            kept[key] = _without_personal_fields(value)
        return kept
    if isinstance(document, list):
        return [_without_personal_fields(item) for item in document]
    return document
