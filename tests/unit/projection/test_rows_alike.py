"""The live batch and the rebuild store the same rows for the same events: both shape them in adapters/rows.py, and
this checks it end to end on the fakes (the rebuild's COPY values turned back into what the live path writes)."""

from datetime import datetime

import orjson

from services.projection.adapters.documents import decode, decode_state
from services.projection.adapters.rows import MEMBER_COLUMNS, TIMELINE_COLUMNS, VIEW_COLUMNS
from services.projection.domain import FoldRules
from services.projection.handlers.replay import Replay
from tests.unit.projection.factories import record
from tests.unit.projection.test_project_batch import Worker, records

EVENTS = [
    record("ana", 1, note="asked for the quiet fitting room"),
    record("ana", 2, minutes=5, channel="phone", kind="complaint", outcome="unresolved", rating=1),
    record("ana", 3, "membership", minutes=6, account_id="acc-hollis", role="decision_maker", granted=True),
    record("bob", 4, channel="web", kind="visit"),
    record("bob", 5, "preference", minutes=9, key="channel", value="email"),
]


async def test_a_rebuild_writes_the_rows_a_live_batch_writes() -> None:
    live = Worker()
    await live.project({0: records(*EVENTS[:3]), 1: records(*EVENTS[3:])})
    replay = Replay(FoldRules())
    timeline, _ = replay.apply([orjson.dumps(event) for event in EVENTS])

    rebuilt = {row[0]: dict(zip(VIEW_COLUMNS, row, strict=True)) for row in replay.view_rows(list(replay.states))}
    assert set(rebuilt) == set(live.store.tables.views) == {"ana", "bob"}
    for customer_id, row in rebuilt.items():
        assert decode(row["view"]) == live.store.tables.views[customer_id]
        assert decode_state(row["fold_state"]) == decode_state(live.store.tables.states[customer_id])
        assert row["updated_at"] == datetime.fromisoformat(live.store.tables.views[customer_id]["updated_at"])

    copied = {row[0]: dict(zip(TIMELINE_COLUMNS, row, strict=True)) for row in timeline}
    assert set(copied) == set(live.store.tables.timeline) and len(copied) == 3  # one a touchpoint
    for event_id, row in copied.items():
        written = live.store.tables.timeline[event_id]
        assert {**row, "occurred_at": row["occurred_at"].isoformat(), "entry": orjson.loads(row["entry"])} == {
            **written,
            "occurred_at": datetime.fromisoformat(written["occurred_at"]).isoformat(),
        }

    members = [dict(zip(MEMBER_COLUMNS, row, strict=True)) for row in replay.membership_rows(list(replay.states))]
    assert len(members) == 1 and members == list(live.store.tables.memberships.values())
