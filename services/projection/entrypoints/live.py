"""Fan-out of view-change notices to live subscribers, each with a bounded queue: a slow one is dropped."""

import asyncio
from dataclasses import dataclass


@dataclass(eq=False)
class Subscription:
    customer_id: str
    queue: "asyncio.Queue[str]"
    dropped: bool = False


class ViewHub:
    """Hands each notice (a position, or 'erased') to the subscribers of its customer, never waiting on any."""

    def __init__(self, queue_size: int = 64) -> None:
        self._queue_size = queue_size
        self._subscribers: dict[str, set[Subscription]] = {}

    def subscribe(self, customer_id: str) -> Subscription:
        subscription = Subscription(customer_id, asyncio.Queue(self._queue_size))
        self._subscribers.setdefault(customer_id, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        subscribers = self._subscribers.get(subscription.customer_id)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscribers[subscription.customer_id]

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
