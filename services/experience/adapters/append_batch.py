"""One append's unit of work on PostgreSQL: set-based reads and writes on the transaction that holds the turn."""

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from services.experience.adapters import sql
from services.experience.adapters.handover import committed_events
from services.experience.adapters.ports import AppendBatch, StoredEvent
from services.experience.domain.admission import Known, LinkChange
from services.experience.domain.append import Erasure, NewEvent, Numbered
from services.experience.domain.identities import IdentityKey


def _row(index: int, numbered: Numbered, envelope: bytes) -> dict[str, Any]:
    event = numbered.event
    return {
        "ord": index,
        "event_id": event.event_id,
        "customer_id": numbered.customer_id,
        "sequence": numbered.sequence,
        "type": event.type,
        "source": event.source,
        "occurred_at": event.occurred_at,
        "envelope": orjson.Fragment(envelope),  # serialised once, for this row and for the hand-over
    }


def _json(rows: list[dict[str, Any]]) -> str:
    return orjson.dumps(rows).decode()


def _known(stored: dict[str, int], links: dict[IdentityKey, str], customers: Sequence[Sequence[Any]]) -> Known:
    """From (customer id, last sequence or None, erased) rows."""
    last = {customer: sequence for customer, sequence, _ in customers if sequence is not None}
    return Known(stored_ids=stored, links=links, last_sequences=last, erased={c for c, _, gone in customers if gone})


class PostgresAppendBatch(AppendBatch):
    """Collects, when asked to, the inserted events as the relay publishes them (`committed`), for the store to
    hand over once the transaction has committed."""

    def __init__(self, conn: AsyncConnection, *, hand_over: bool, appender: str = "") -> None:
        self._conn = conn
        self._hand_over = hand_over
        self._appender = appender  # what the commit notice says when the batch is handed over
        self.committed: list[StoredEvent] = []
        self.inserted = 0  # events this append stored

    async def known(self, events: Sequence[NewEvent]) -> Known:
        """Everything the batch's decision needs, in one set-based read without identities, three with."""
        conn = self._conn
        ids = [e.event_id for e in events]
        named = {e.customer_id: None for e in events if e.customer_id is not None}
        hashes = list({e.identity.value_hash for e in events if e.identity is not None})
        if not hashes:
            stored: dict[str, int] = {}
            customer_rows: list[tuple[str, int | None, bool]] = []
            params = {"ids": ids, "customers": list(named)}
            for is_stored, key, number, is_erased in await conn.execute(sql.STORED_AND_CUSTOMERS, params):
                if is_stored:
                    stored[key] = number
                else:
                    customer_rows.append((key, number, is_erased))
            return _known(stored, {}, customer_rows)
        stored = dict((await conn.execute(sql.STORED_POSITIONS, {"ids": ids})).all())
        found = await conn.execute(sql.LINKS, {"hashes": hashes})
        links = {IdentityKey(kind, value_hash): customer for kind, value_hash, customer in found}
        customers = list({**named, **dict.fromkeys(links.values())})
        return _known(stored, links, (await conn.execute(sql.CUSTOMERS, {"customers": customers})).all())

    async def insert(self, new: Sequence[Numbered]) -> dict[str, int]:
        """Insert, and notify at commit: naming this store when the batch is handed over (its relay has it
        already), anonymously otherwise, which wakes every leader."""
        envelopes = [orjson.dumps(n.event.envelope) for n in new]
        rows = _json([_row(i, n, envelope) for i, (n, envelope) in enumerate(zip(new, envelopes, strict=True))])
        params = {"rows": rows, "appender": self._appender if self._hand_over else ""}
        returned = [tuple(row) for row in await self._conn.execute(sql.INSERT_EVENTS, params)]
        self.inserted += len(returned)
        if self._hand_over:
            self.committed += committed_events(new, envelopes, returned)
        return {event_id: position for event_id, position, _ in returned}

    async def save_links(self, links: Mapping[IdentityKey, LinkChange]) -> None:
        """Each link remembers the event that made it."""
        kept = [
            {**k.as_stored(), "customer_id": c.customer_id, "event_id": c.event_id}
            for k, c in links.items()
            if c.customer_id
        ]
        gone = [k.as_stored() for k, c in links.items() if c.customer_id is None]
        if kept:
            await self._conn.execute(sql.SET_LINKS, {"rows": _json(kept)})
        if gone:
            await self._conn.execute(sql.REMOVE_LINKS, {"rows": _json(gone)})

    async def erase(self, erasures: Mapping[str, str]) -> list[Erasure]:
        if not erasures:
            return []
        # Nothing of this batch is handed over: the erasure redacts stored events in this transaction, and only
        # the store has the redacted copies, so the relay reads them from there.
        self.committed = []
        self._hand_over = False
        conn, customers = self._conn, list(erasures)
        await conn.execute(sql.NOTIFY_APPENDED, {"appender": ""})  # the insert's notice named this store
        await conn.execute(sql.REDACTION_ON)
        redacted = Counter((await conn.execute(sql.REDACT_EVENTS, {"customers": customers})).scalars())
        removed = Counter((await conn.execute(sql.FORGET_LINKS, {"customers": customers})).scalars())
        await conn.execute(sql.RECORD_ERASED, {"customers": customers, "event_ids": list(erasures.values())})
        return [Erasure(c, redacted[c], removed[c]) for c in customers]
