"""A bounded, per-worker cache of fold states, trusted only where PostgreSQL says it is still the stored one.

Decoding a customer's stored fold state (LZ4, JSON, then the dataclasses) costs about as much as folding a whole
batch of their events; a worker that sees the same customers batch after batch keeps their states instead. The
database stays the truth: a cached state is used only when its version (events applied: a late older event
changes a state but not its position) and the table it came from (`tableoid`, new after a rebuild swapped the
tables) match the row the batch has just locked. Anything else — another worker's newer write after a
rebalance, a rolled-back batch, a rebuild — is a miss and is read from PostgreSQL.
Least recently used states go first, so memory stays flat however many customers there are.
"""

from collections import OrderedDict
from dataclasses import dataclass

from services.projection.domain import CustomerState


@dataclass(slots=True)
class _Cached:
    state: CustomerState
    version: int
    table: int


class StateCache:
    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._states: OrderedDict[str, _Cached] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, customer_id: str, version: int, table: int) -> CustomerState | None:
        """The cached state when it is the stored one: the row's `version` (events applied) and table match."""
        cached = self._states.get(customer_id)
        # The state's own version too: a state handed out and folded into by a batch that then failed has
        # moved on while the row has not (clear() after a failure drops those as well).
        if cached is None or cached.version != version or cached.state.version != version or cached.table != table:
            self.misses += 1
            return None
        self._states.move_to_end(customer_id)
        self.hits += 1
        return cached.state

    def put(self, states: list[CustomerState], table: int) -> None:
        """States just committed; the objects themselves are kept, so they must not be folded into again
        unless `get` hands them out."""
        if not self._capacity:
            return
        for state in states:
            self._states[state.customer_id] = _Cached(state, state.version, table)
            self._states.move_to_end(state.customer_id)
        while len(self._states) > self._capacity:
            self._states.popitem(last=False)

    def forget(self, customer_ids: list[str]) -> None:
        for customer_id in customer_ids:
            self._states.pop(customer_id, None)

    def clear(self) -> None:
        """After a failed batch: states handed out may have been folded into without being stored."""
        self._states.clear()

    def __len__(self) -> int:
        return len(self._states)
