"""Relay stored events to `cx.events.v1` in position order, at least once, resuming from a safe position."""

import asyncio
import contextlib
import time
from collections.abc import Sequence

import orjson
import structlog

from contracts import canonical
from services.experience.adapters.metrics import ExperienceMetrics
from services.experience.adapters.ports import (
    Checkpoint,
    EventStore,
    OutgoingRecord,
    RecordProducer,
    RelayFencedError,
    StoredEvent,
)

log = structlog.get_logger(__name__)

HANDED_LIMIT = 50_000  # handed-over events held at most before the relay falls back to reading the store


class ClusterChangedError(RuntimeError):
    """The broker the relay publishes to belongs to another cluster than the one its term was granted for."""


def to_record(event: StoredEvent) -> OutgoingRecord:
    """Keyed by customer so each customer's events stay in order on one partition."""
    # content-type: the CloudEvents Kafka binding's mark of structured mode (the whole event is the value).
    headers = [
        (canonical.HEADER_CONTENT_TYPE, canonical.STRUCTURED_CONTENT_TYPE),
        (canonical.HEADER_TYPE, event.type.encode()),
        (canonical.HEADER_ID, event.event_id.encode()),
    ]
    if event.traceparent:
        headers.append((canonical.HEADER_TRACEPARENT, event.traceparent.encode()))
    return OutgoingRecord(key=event.customer_id.encode(), value=event.document, headers=headers)


def highest_position(values: Sequence[bytes]) -> int:
    """The highest `position` attribute among records the topic still holds; 0 when it holds none."""
    highest = 0
    for value in values:
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            highest = max(highest, int(orjson.loads(value).get(canonical.POSITION, 0)))
    return highest


class EventRelay:
    """One leader at a time reads the store after its checkpoint and publishes, then moves the checkpoint."""

    def __init__(
        self,
        store: EventStore,
        producer: RecordProducer,
        topic: str,
        *,
        name: str = "cx.events.v1",
        batch_size: int = 2000,
        poll_interval_s: float = 1.0,
        retry_s: float = 1.0,
        wake: asyncio.Event | None = None,
        metrics: ExperienceMetrics | None = None,
        topic_check_s: float = 30.0,
    ) -> None:
        self._store = store
        self._producer = producer
        self._topic = topic
        self._name = name
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._retry_s = retry_s
        self.wake = wake or asyncio.Event()
        self._metrics = metrics or ExperienceMetrics()
        # How often a leader checks that the topic still holds what it published: a broker that lost its data
        # (the embedded one keeps nothing across a restart) may come back without the producer ever failing.
        self._topic_check_s = topic_check_s
        self._handed: list[StoredEvent] = []  # committed by this process, not yet published; only while leading
        self._leading = False
        self._acknowledged: dict[int, int] = {}  # partition -> the offset of the term's latest batch on it

    @property
    def name(self) -> str:
        """The checkpoint's name: what `EventStore.relay_backlog` is asked about."""
        return self._name

    async def run(self) -> None:
        """Relay until cancelled; any failure means: wait, then start over from the checkpoint."""
        fenced_off: str | None = None  # the owner we last yielded to: warn once, not every retry
        while True:
            try:
                # Asked again before every term: a broker swapped for another cluster is noticed on the next one.
                cluster_id = await self._producer.cluster_id()
                async with self._store.leadership(self._name, cluster_id, self.wake) as checkpoint:
                    fenced_off = None
                    await self._lead(checkpoint, cluster_id)
            except RelayFencedError as fenced:
                # Another cluster's relay publishes this stream: leading here would split it between two brokers.
                # A restarted broker keeps its cluster id (Kafka stores it; Tansu reports its --cluster-id), so
                # only a different cluster is fenced. Moving to a new cluster on purpose is an operator's act
                # (README, Operations): no relay can tell a replaced cluster from a stray stack's broker.
                if fenced.owner != fenced_off:
                    log.warning("relay.fenced", topic=self._topic, cluster_id=fenced.cluster_id,
                                checkpoint_cluster_id=fenced.owner, retry_in_s=self._retry_s)  # fmt: skip
                fenced_off = fenced.owner
                await asyncio.sleep(self._retry_s)
            except Exception as error:  # the relay must outlive broker and database outages
                log.warning("relay.failed", error=repr(error), retry_in_s=self._retry_s)
                await asyncio.sleep(self._retry_s)

    async def resume_position(self, checkpoint: Checkpoint) -> int:
        # The broker may have lost records the checkpoint counts as published (the embedded broker keeps
        # nothing across restarts): never resume past what the topic really holds. Re-sending is safe, the
        # projection dedupes by position; skipping is not.
        saved = await checkpoint.load()
        values = await self._producer.last_values(self._topic)
        if not values and saved and await self._producer.expired(self._topic):
            # Emptied by retention, not lost: what was published reached the broker and was read or expired.
            # Starting over would send the whole store again after every quiet spell longer than the retention.
            return saved
        return min(saved, highest_position(values))

    def offer(self, events: list[StoredEvent]) -> None:
        """Events this process has just committed, in position order: published from memory when they follow on
        from what was published, so the store is read only to fill a gap (another replica's appends, positions
        a failed transaction used up) or after a restart."""
        if self._leading:
            self._handed.extend(events)
            if len(self._handed) > HANDED_LIMIT:
                self._handed.clear()  # the store has them all: read from there rather than hold them
        self.wake.set()

    def _take_handed(self, position: int) -> list[StoredEvent]:
        """The handed-over events that follow `position` without a gap, at most a batch; drops those at or
        below it (read from the store meanwhile)."""
        handed = sorted((e for e in self._handed if e.position > position), key=lambda e: e.position)
        taken: list[StoredEvent] = []
        for event in handed:
            if event.position != position + len(taken) + 1 or len(taken) >= self._batch_size:
                break
            taken.append(event)
        self._handed = handed[len(taken) :]
        return taken

    async def _lead(self, checkpoint: Checkpoint, cluster_id: str) -> None:
        self._handed.clear()
        self._acknowledged.clear()
        self._leading = True
        try:
            await self._publish_from(await self.resume_position(checkpoint), checkpoint, cluster_id)
        finally:
            self._leading = False
            self._handed.clear()

    def _offsets_went_back(self, acknowledged: dict[int, int]) -> bool:
        """Whether a partition gave this batch an offset at or below an earlier batch's of this term: offsets
        only grow in a partition's log, so the log has started over."""
        went_back = any(offset <= self._acknowledged.get(partition, -1) for partition, offset in acknowledged.items())
        for partition, offset in acknowledged.items():
            self._acknowledged[partition] = max(offset, self._acknowledged.get(partition, -1))
        return went_back

    async def _still_held(self, position: int, checkpoint: Checkpoint, cluster_id: str) -> int:
        """Where to go on from: `position`, or lower when the topic lost records published up to it. Ends the
        term when the producer now talks to another cluster than the one it was granted for (a broker replaced
        at the same address), so the next term is fenced instead of sending the stream on to the wrong one."""
        now = await self._producer.cluster_id()
        if now != cluster_id:
            log.warning("relay.cluster_changed", topic=self._topic, term_cluster_id=cluster_id, cluster_id=now)
            raise ClusterChangedError(f"the producer now reaches Kafka cluster {now!r}, not {cluster_id!r}")
        held = await self.resume_position(checkpoint)
        if held < position:
            log.warning("relay.topic_lost_records", topic=self._topic, published_up_to=position, resend_after=held)
            self._handed.clear()
            return held
        return position

    async def _publish_from(self, position: int, checkpoint: Checkpoint, cluster_id: str) -> None:
        log.info("relay.leading", topic=self._topic, resume_after=position)
        checked = time.monotonic()
        read_store = True  # what was stored before the term began is not handed over
        while True:
            if time.monotonic() - checked >= self._topic_check_s:
                position, checked = await self._still_held(position, checkpoint, cluster_id), time.monotonic()
                read_store = True
            if self.wake.is_set() and not self._handed:
                read_store = True  # woken during the last round by another replica's append
            self.wake.clear()  # before reading, so an append during the read still wakes the next round
            events = self._take_handed(position)
            # The store only when something may be there that no hand-over brings: at a term's start, to fill a gap
            # before what was handed over, after a wake with nothing handed (another replica's append), or once a
            # poll interval passed in silence. Not after every round: an append that has committed but not yet
            # handed its batch over would be read back from the store, just before it arrives in memory.
            from_store = not events and (read_store or bool(self._handed))
            if from_store:
                events = await self._store.read_from(position, self._batch_size)
            if not events:
                woken = False
                with contextlib.suppress(TimeoutError):
                    woken = await asyncio.wait_for(self.wake.wait(), self._poll_interval_s)
                read_store = not woken or not self._handed
                continue
            read_store = from_store  # a batch from the store may have more behind it
            acknowledged = await self._producer.send_all(self._topic, [to_record(e) for e in events])
            if self._offsets_went_back(acknowledged):
                # The topic was recreated under us (a broker that came back empty, the producer reconnecting
                # without an error): it holds none of what went before, and what the projection had not read yet
                # is gone with it. Send the whole store again; the checkpoint first, so a crash also resumes there.
                log.warning("relay.topic_recreated", topic=self._topic, resend_after=0)
                await checkpoint.save(0)
                position, read_store = 0, True
                self._handed.clear()
                self._acknowledged.clear()
                continue
            position = events[-1].position
            await checkpoint.save(position)
            self._metrics.relayed.inc(len(events))
            log.debug("relay.published", topic=self._topic, count=len(events), position=position)
