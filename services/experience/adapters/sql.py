"""The SQL statements of the event store, each set-based: one statement per batch, never one per event."""

from sqlalchemy import text

# Arbitrary constants naming our advisory locks; the two-key form used for leadership lives in another key space.
APPEND_LOCK_KEY = 0x5241_5050_4150  # "RAPPAP"
LEADERSHIP_CLASS = 0x5241_5050  # "RAPP"

APPEND_LOCK = text(f"SELECT pg_advisory_xact_lock({APPEND_LOCK_KEY})")

STORED_POSITIONS = text("SELECT event_id, position FROM events WHERE event_id = ANY(CAST(:ids AS text[]))")

# max() per customer walks the (customer_id, sequence) unique index backwards: one index probe each.
LAST_SEQUENCES = text(
    "SELECT c.customer_id, (SELECT max(e.sequence) FROM events e WHERE e.customer_id = c.customer_id) "
    "FROM unnest(CAST(:customers AS text[])) AS c(customer_id)"
)

# ORDER BY ord hands out positions in batch order, so a customer's sequence and position rise together.
INSERT_EVENTS = text(
    "INSERT INTO events (event_id, customer_id, sequence, type, source, occurred_at, envelope) "
    "SELECT r.event_id, r.customer_id, r.sequence, r.type, r.source, r.occurred_at, r.envelope "
    "FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(ord int, event_id text, customer_id text, "
    "sequence int, type text, source text, occurred_at timestamptz, envelope jsonb) "
    "ORDER BY r.ord RETURNING event_id, position"
)

# The canonical document is built here, so the relay sends bytes without parsing JSON in Python.
# (`\:` keeps SQLAlchemy from reading :MI and :SS as bind parameters.)
# Our attributes go on the right of ||, so a producer's own `position` extension can never survive.
READ_FROM = text(
    "SELECT position, customer_id, event_id, type, envelope->>'traceparent', "
    "(envelope || jsonb_build_object('position', position, 'sequence', sequence, 'recordedat', "
    "to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24\\:MI\\:SS.US\"Z\"')))::text "
    "FROM events WHERE position > :after ORDER BY position LIMIT :limit"
)

TRY_LEAD = text(f"SELECT pg_try_advisory_lock({LEADERSHIP_CLASS}, hashtext(:name))")
UNLEAD = text(f"SELECT pg_advisory_unlock({LEADERSHIP_CLASS}, hashtext(:name))")

LOAD_CHECKPOINT = text("SELECT position FROM relay_checkpoints WHERE name = :name")
SAVE_CHECKPOINT = text(
    "INSERT INTO relay_checkpoints (name, position) VALUES (:name, :position) "
    "ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position"
)
