"""What a reader without `pii:read` may not see, taken from the catalogue's PERSONAL_FIELDS so the two agree.

Two kinds of personal field reach the read side: touchpoint fields copied into timeline entries (note,
handled_by, attributes, identity) and personal preferences wherever preferences show: a customer view's
`preferences` (with its `fallback`), an account member's `preferences`, a contact answer's `how`. Personal
preferences are the catalogued ones PERSONAL_FIELDS names (name_to_use, avoid_topics, accessibility) and, while
it holds the marker EXTRA_PREFERENCES ("preferences.*"), every free-form extra outside the catalogue: such a
reader sees only catalogue preferences that are not personal. `redact` walks any answer document and removes
both kinds, so one function serves every route and every shape.
"""

from typing import Any, TypeVar, cast

from contracts.catalog import EXTRA_PREFERENCES, PERSONAL_FIELDS
from contracts.event_types import PREFERENCE_STATED, TOUCHPOINT_RECORDED
from contracts.preferences import CATALOGUE

# Touchpoint fields are top-level names in `data` ("identity", not "identity.value": the whole object goes).
PERSONAL_KEYS = frozenset(path.split(".", 1)[0] for path in PERSONAL_FIELDS.get(TOUCHPOINT_RECORDED, ()))
_PREFERENCE_PATHS = PERSONAL_FIELDS.get(PREFERENCE_STATED, ())
PERSONAL_PREFERENCES = frozenset(
    path.removeprefix("preferences.") for path in _PREFERENCE_PATHS
    if path.startswith("preferences.") and path != EXTRA_PREFERENCES
)  # fmt: skip
EXTRAS_ARE_PERSONAL = EXTRA_PREFERENCES in _PREFERENCE_PATHS
_PREFERENCE_HOLDERS = frozenset({"preferences", "how"})  # dicts keyed by preference name
Document = TypeVar("Document")


def shows_preference(name: str) -> bool:
    """Whether a reader without pii:read may see the preference `name`."""
    if name in PERSONAL_PREFERENCES:
        return False
    return name in CATALOGUE or not EXTRAS_ARE_PERSONAL


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
                value = {name: entry for name, entry in value.items() if shows_preference(name)}
            kept[key] = _without_personal_fields(value)
        return kept
    if isinstance(document, list):
        return [_without_personal_fields(item) for item in document]
    return document
