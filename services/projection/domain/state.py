"""What the fold remembers per customer, including accumulators the public view does not show.

msgspec Structs rather than dataclasses: the state is stored after every batch that changes a customer and read
back on every state-cache miss, and msgspec encodes and decodes a Struct tree several times faster than the JSON
round trip of dataclasses did (see adapters/documents.py). `gc=False` on the small records: a worker holds
thousands of states, and the cyclic collector walking their entries caused the longest pauses of a batch. None
of them can be part of a reference cycle (they hold only strings, numbers and other such records).
"""

from typing import Any

from msgspec import Struct, field


class PreferenceState(Struct, gc=False, array_like=True):
    value: Any
    stated: bool
    at_us: int
    event_id: str
    expires_us: int | None = None

    def rank(self) -> tuple[int, str]:
        # The latest wins, the event id breaks ties: a max, so arrival order is moot.
        return (self.at_us, self.event_id)

    def lasts_until(self) -> int:
        return NEVER if self.expires_us is None else self.expires_us


NEVER = 1 << 63  # later than any expiry in microseconds (year 9999 is below 2**58)
# Most preference candidates kept per name. Only a run of ever newer statements, each lapsing sooner than the one
# before, builds up more; beyond the bound the one lapsing last before the oldest goes, and which one that is may
# then depend on arrival order (a later-arriving candidate might have made room). Acceptable: it takes more than
# eight overlapping temporary wishes for one preference, and what is lost is one stretch of time far ahead, by
# which the customer will most likely have said something new.
CANDIDATE_LIMIT = 8


class DecisionState(Struct, gc=False, array_like=True):
    """The latest word on something (a consent, an account membership): max by (time, event id)."""

    at_us: int
    event_id: str
    granted: bool
    role: str | None = None
    position: int = 0

    def rank(self) -> tuple[int, str]:
        return (self.at_us, self.event_id)


class RecentState(Struct, gc=False, array_like=True):
    event_id: str
    time_us: int
    position: int
    channel: str
    kind: str
    sentiment: float | None
    feeling: str
    emotion: str | None = None
    outcome: str | None = None
    account_id: str | None = None
    # `time_us` formatted once when folded and kept with the state: every render shows each recent entry again,
    # and formatting was the render's largest cost. Empty in state written before it was kept.
    time: str = ""


class CaseState(Struct, gc=False, array_like=True):
    """One support case or complaint thread (case_id, or attributes.case_id in older events): open while its latest
    opening is after its latest resolution."""

    open_us: int | None = None
    open_event_id: str | None = None
    open_kind: str = "complaint"
    resolved_us: int | None = None

    def last_us(self) -> int:
        return max(self.open_us or 0, self.resolved_us or 0)


class ChannelUse(Struct, gc=False, array_like=True):
    count: int
    last_us: int
    event_id: str


class CustomerState(Struct, array_like=True):
    """Everything needed to keep folding one customer's events and to render their view; bounded in size."""

    customer_id: str
    version: int = 0
    position: int = 0
    sequence: int = 0
    updated_us: int | None = None
    account_id: str | None = None
    account_rank: tuple[int, int] | None = None  # (time_us, position) of the touchpoint that named it
    # Per name, the candidates that can still be in force at some moment (see keep_candidate), newest first.
    stated: dict[str, list[PreferenceState]] = field(default_factory=dict)
    observed: dict[str, list[PreferenceState]] = field(default_factory=dict)
    consent: dict[str, DecisionState] = field(default_factory=dict)  # 'purpose' or 'purpose/channel'
    accounts: dict[str, DecisionState] = field(default_factory=dict)  # account id -> latest membership decision
    touchpoints: int = 0
    positive: int = 0
    negative: int = 0
    neutral: int = 0
    purchases: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)
    channel_use: dict[str, ChannelUse] = field(default_factory=dict)  # inbound use, for the observed channel
    first_touch_us: int | None = None
    last_touch_us: int | None = None
    day_base: int | None = None  # UTC day number of bit 0 of day_bits
    day_bits: int = 0  # one bit per UTC day with a touchpoint: distinct days in a few hundred bytes
    recent: list[RecentState] = field(default_factory=list)  # newest first by (time_us, position)
    scored_recent: list[RecentState] = field(default_factory=list)  # the latest scored touchpoints, newest first
    contracts: list[RecentState] = field(default_factory=list)  # latest contract-related touchpoints
    cases: dict[str, CaseState] = field(default_factory=dict)
    loose_issues: list[RecentState] = field(default_factory=list)  # open issues without a case id, newest first
    resolved_us: int | None = None  # no longer read (issues close per kind now); kept: states are stored by position
    # Score sums decayed to `score_ref_us` (the latest scored touchpoint): P = sum(w*d*s), W = sum(w*d).
    # Moving the reference rescales both sums by the same factor, so P/W never depends on arrival order, and
    # unlike a fixed epoch nothing overflows however far apart the events are. The short pair uses a shorter
    # half-life: recent feelings, for the falling-score signal.
    score_ref_us: int | None = None
    scored: int = 0
    weighted_sentiment: float = 0.0
    weight_total: float = 0.0
    short_weighted_sentiment: float = 0.0
    short_weight_total: float = 0.0
    # Per issue kind, the latest closing event without a case id (see issues.py). New fields go last: a stored
    # state is an array, and one stored before a field existed decodes with its default.
    closed_by_kind: dict[str, int] = field(default_factory=dict)
    # Sequences applied above `sequence`, which is the customer's highest with every one below it applied: an
    # older event can arrive after newer ones (a broker lost it and the relay sent it again), and it still counts.
    later_sequences: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready document of plain builtins (the format fold states were stored in before msgpack, still
        read by `from_json`; tests and the naive baseline use it too)."""
        document: dict[str, Any] = _plain(self)
        document["day_bits"] = format(self.day_bits, "x")  # beyond 64 bits: JSON numbers would not do
        return document

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> "CustomerState":
        fields = dict(document)
        if "preferences" in fields:  # fold state written before stated and observed were kept apart
            old = {k: PreferenceState(**v) for k, v in fields.pop("preferences").items()}
            fields["stated"] = {k: p for k, p in old.items() if p.stated}
            fields["observed"] = {k: p for k, p in old.items() if not p.stated}
        for name in ("stated", "observed"):
            fields[name] = {k: _candidates(v) for k, v in fields.get(name, {}).items()}
        for name in ("consent", "accounts"):
            fields[name] = {k: _decision(v) for k, v in fields.get(name, {}).items()}
        for name in ("recent", "scored_recent", "contracts", "loose_issues"):
            fields[name] = [RecentState(**item) for item in fields.get(name, [])]
        fields["cases"] = {k: CaseState(**v) for k, v in fields.get("cases", {}).items()}
        fields["channel_use"] = {k: ChannelUse(**v) for k, v in fields.get("channel_use", {}).items()}
        fields["day_bits"] = int(fields.get("day_bits") or "0", 16)
        rank = fields.get("account_rank")
        fields["account_rank"] = tuple(rank) if rank is not None else None
        return cls(**fields)


def _plain(value: Any) -> Any:
    """Structs as dicts by field name, recursively (Structs are stored as arrays, JSON keeps the names)."""
    if isinstance(value, Struct):
        return {name: _plain(getattr(value, name)) for name in value.__struct_fields__}
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def keep_latest(kept: list[RecentState], entry: RecentState, limit: int) -> None:
    """Keep the top `limit` by (time, position), newest first: a set's top-k is the same in any arrival order."""
    # Compared field by field, not as (time, position) tuples: this runs for every touchpoint, several times.
    time_us, position = entry.time_us, entry.position
    if len(kept) >= limit:
        last = kept[-1]
        if time_us < last.time_us or (time_us == last.time_us and position < last.position):
            return
    index = 0
    for held in kept:
        if held.time_us < time_us or (held.time_us == time_us and held.position <= position):
            break
        index += 1
    kept.insert(index, entry)
    del kept[limit:]


def keep_candidate(kept: list[PreferenceState], candidate: PreferenceState, limit: int = CANDIDATE_LIMIT) -> None:
    """Keep the candidates no later one outlasts, newest first: c goes for good once a newer candidate lasts at
    least as long, so what is kept (expiries rising towards the oldest) is the same set in any arrival order."""
    rank, lasts = candidate.rank(), candidate.lasts_until()
    index = 0
    while index < len(kept):
        other = kept[index].rank()
        if other == rank:
            return  # kept already: a re-delivery
        if other < rank:
            break
        index += 1
    if index and kept[index - 1].lasts_until() >= lasts:
        return  # newer ones last longer towards the oldest of them, and that one outlasts this
    end = index
    while end < len(kept) and kept[end].lasts_until() <= lasts:
        end += 1
    if end > index:  # replace in place rather than allocate: the common case, one never-expiring candidate
        kept[index] = candidate
        del kept[index + 1 : end]
    else:
        kept.insert(index, candidate)
    if len(kept) > limit:
        del kept[limit - 1 : -1]  # the oldest stays: it lasts longest, often for good (see CANDIDATE_LIMIT)


def _candidates(value: Any) -> list[PreferenceState]:
    # State written before several candidates were kept holds one record per name.
    return [_pref(item) for item in value] if isinstance(value, list) else [_pref(value)]


def _pref(value: Any) -> PreferenceState:
    return value if isinstance(value, PreferenceState) else PreferenceState(**value)


def _decision(value: Any) -> DecisionState:
    return value if isinstance(value, DecisionState) else DecisionState(**value)
