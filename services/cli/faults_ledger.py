"""The fault suite's ledger: every event a 202 acknowledged, per scenario and customer, and every 5xx seen."""

from collections import defaultdict
from dataclasses import dataclass, field


@dataclass
class Ledger:
    """Acknowledged event ids per customer; an id acknowledged again (a duplicate, a retried request) is one event."""

    acknowledged: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    server_errors: list[str] = field(default_factory=list)  # "503 (no Retry-After) POST /v1/events", …
    retried: int = 0  # requests answered 503 with Retry-After, 429, or not at all, and sent again
    undelivered: int = 0  # events whose request was never acknowledged in time: the ledger cannot vouch for them

    def acknowledge(self, ids_by_customer: dict[str, list[str]], body: dict[str, object]) -> None:
        """Record a 202: only ids the answer names (accepted or duplicates) count, each once."""
        named = {*_strings(body.get("accepted")), *_strings(body.get("duplicates"))}
        for customer, ids in ids_by_customer.items():
            self.acknowledged[customer].update(i for i in ids if i in named)

    def expected(self) -> dict[str, int]:
        """The view version each customer must reach: one per acknowledged event."""
        return {customer: len(ids) for customer, ids in self.acknowledged.items()}

    @property
    def total(self) -> int:
        return sum(len(ids) for ids in self.acknowledged.values())


@dataclass(frozen=True)
class Verdict:
    """What the views showed against the ledger once they were given time to catch up."""

    lost: int  # acknowledged events no view shows
    counted_twice: int  # view versions beyond what was acknowledged
    missing_views: int  # customers with acknowledged events and no view at all


def compare(expected: dict[str, int], versions: dict[str, int | None]) -> Verdict:
    lost = twice = missing = 0
    for customer, count in expected.items():
        version = versions.get(customer)
        missing += version is None
        lost += max(0, count - (version or 0))
        twice += max(0, (version or 0) - count)
    return Verdict(lost, twice, missing)


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
