"""Fan-out of view-change notices to live subscribers, each with a bounded queue: a slow one is dropped."""

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass


@dataclass(eq=False)
class Subscription:
    customer_id: str
    queue: "asyncio.Queue[str]"
    dropped: bool = False


class ViewHub:
    """Hands each notice (a position, or 'erased') to the subscribers of its customer, never waiting on any."""

    def __init__(self, queue_size: int = 64, on_demand: Callable[[bool], None] | None = None) -> None:
        """`on_demand(True)` when the first subscriber arrives, `on_demand(False)` when the last one leaves."""
        self._queue_size = queue_size
        self._subscribers: dict[str, set[Subscription]] = {}
        self._on_demand = on_demand
        self._total = 0

    def subscribe(self, customer_id: str) -> Subscription:
        subscription = Subscription(customer_id, asyncio.Queue(self._queue_size))
        self._subscribers.setdefault(customer_id, set()).add(subscription)
        self._total += 1
        if self._total == 1 and self._on_demand is not None:
            self._on_demand(True)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        subscribers = self._subscribers.get(subscription.customer_id)
        if subscribers is not None and subscription in subscribers:
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscribers[subscription.customer_id]
            self._total -= 1
            if self._total == 0 and self._on_demand is not None:
                self._on_demand(False)

    def publish(self, customer_id: str, notice: str) -> None:
        for subscription in list(self._subscribers.get(customer_id, ())):
            try:
                subscription.queue.put_nowait(notice)
            except asyncio.QueueFull:
                # A client this far behind is not allowed to hold memory or slow anyone: it is cut off and
                # reconnects, getting the current view first.
                subscription.dropped = True
                self.unsubscribe(subscription)

    def subscribers(self, customer_id: str) -> int:
        return len(self._subscribers.get(customer_id, ()))


async def notices(subscription: Subscription, heartbeat_s: float) -> AsyncIterator[str | None]:
    """The subscription's notices as they come, and None after `heartbeat_s` of quiet (the stream then sends a
    comment, so proxies keep it open); ends once the hub dropped the subscriber for falling behind."""
    while not subscription.dropped:
        try:
            yield await asyncio.wait_for(subscription.queue.get(), heartbeat_s)
        except TimeoutError:
            yield None
