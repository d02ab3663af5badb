"""What the fold remembers per customer, including accumulators the public view does not show."""

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(slots=True)
class PreferenceState:
    value: Any
    stated: bool
    at_us: int
    event_id: str

    def rank(self) -> tuple[bool, int, str]:
        # Stated beats observed, then the latest, then the event id breaks ties: a max, so order is moot.
        return (self.stated, self.at_us, self.event_id)


@dataclass(slots=True)
class RecentState:
    event_id: str
    time_us: int
    position: int
    channel: str
    kind: str
    sentiment: float | None
    feeling: str


@dataclass(slots=True)
class CustomerState:
    """Everything needed to keep folding one customer's events and to render their view."""

    customer_id: str
    version: int = 0
    position: int = 0
    sequence: int = 0
    updated_us: int | None = None
    account_id: str | None = None
    account_rank: tuple[int, int] | None = None  # (time_us, position) of the touchpoint that named it
    preferences: dict[str, PreferenceState] = field(default_factory=dict)
    touchpoints: int = 0
    positive: int = 0
    negative: int = 0
    neutral: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)
    first_touch_us: int | None = None
    last_touch_us: int | None = None
    recent: list[RecentState] = field(default_factory=list)  # newest first by (time_us, position)
    # Score sums decayed to `score_ref_us` (the latest scored touchpoint): P = sum(w*d*s), W = sum(w*d).
    # Moving the reference rescales both sums by the same factor, so P/W never depends on arrival order, and
    # unlike a fixed epoch nothing overflows however far apart the events are.
    score_ref_us: int | None = None
    weighted_sentiment: float = 0.0
    weight_total: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> "CustomerState":
        fields = dict(document)
        fields["preferences"] = {k: PreferenceState(**v) for k, v in fields.get("preferences", {}).items()}
        fields["recent"] = [RecentState(**item) for item in fields.get("recent", [])]
        rank = fields.get("account_rank")
        fields["account_rank"] = tuple(rank) if rank is not None else None
        return cls(**fields)
