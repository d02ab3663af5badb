"""A canonical record from `cx.events.v1`, reduced to what the fold needs, its time an exact integer."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from contracts import canonical

# Re-exported: code that reads stored events has long found the type names here.
from contracts.event_types import ACCOUNT_MEMBERSHIP_CHANGED as ACCOUNT_MEMBERSHIP_CHANGED
from contracts.event_types import CONSENT_CHANGED as CONSENT_CHANGED
from contracts.event_types import CUSTOMER_ERASED as CUSTOMER_ERASED
from contracts.event_types import PREFERENCE_STATED as PREFERENCE_STATED
from contracts.event_types import TOUCHPOINT_RECORDED as TOUCHPOINT_RECORDED

_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_US_PER_DAY = 86_400_000_000


class UndecodableEventError(ValueError):
    """A record on the canonical topic that lacks what every stored event must carry."""


@dataclass(slots=True, frozen=True)
class StoredEvent:
    """One stored event; `time_us` (microseconds since 1970, UTC) makes time comparisons exact and cheap."""

    event_id: str
    customer_id: str
    type: str
    time_us: int
    position: int
    sequence: int
    data: dict[str, Any]


def to_micros(moment: datetime) -> int:
    if moment.tzinfo is None:  # canonical events are always zoned; be lenient rather than crash the loop
        moment = moment.replace(tzinfo=UTC)
    return (moment - _UNIX_EPOCH) // _MICROSECOND


def from_micros(micros: int) -> datetime:
    return _UNIX_EPOCH + timedelta(microseconds=micros)


def parse_micros(value: Any) -> int | None:
    """An RFC 3339 string from an event's data as microseconds, or None when absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        return to_micros(datetime.fromisoformat(value))
    except ValueError:
        return None


def iso(micros: int) -> str:
    """RFC 3339 in UTC with a fixed width, so stored strings also sort in time order; the same string as
    `from_micros(micros).isoformat(timespec="microseconds")`. Every render formats each recent entry, preference and
    decision again, so this is the fold's most frequent call: a customer's times recur in every render of their
    view, and a lookup costs a twentieth of formatting."""
    text = _ISO.get(micros)
    if text is None:
        if len(_ISO) >= ISO_MEMO_SIZE:
            _ISO.clear()  # bounded: a worker's memory stays flat however many customers it sees
        text = _ISO[micros] = _format_iso(micros)
    return text


ISO_MEMO_SIZE = 65_536
_ISO: dict[int, str] = {}


def _format_iso(micros: int) -> str:
    day, rest = divmod(micros, _US_PER_DAY)
    seconds, fraction = divmod(rest, 1_000_000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return f"{_date(day)}T{_TWO_DIGITS[hour]}:{_TWO_DIGITS[minute]}:{_TWO_DIGITS[second]}.{fraction:06d}+00:00"


_TWO_DIGITS = tuple(f"{n:02d}" for n in range(60))  # a lookup beats three format specs per call


@lru_cache(maxsize=4096)
def _date(day: int) -> str:
    # Bounded: about eleven years of distinct days; views mostly show recent ones.
    return (_UNIX_EPOCH + timedelta(days=day)).date().isoformat()


def event_from_record(document: Any) -> StoredEvent:
    """Pick the fold's fields out of a decoded canonical record; the topic is trusted, so check shape only."""
    try:
        data = document["data"]
        customer_id = document.get("subject") or data["customer_id"]
        return StoredEvent(
            event_id=str(document["id"]),
            customer_id=str(customer_id),
            type=str(document["type"]),
            time_us=to_micros(datetime.fromisoformat(document["time"])),
            position=int(document[canonical.POSITION]),
            sequence=int(document.get(canonical.SEQUENCE) or 0),
            data=data,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise UndecodableEventError(f"not a canonical event: {error!r}") from error
