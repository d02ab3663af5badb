"""The SQL statements of the event store, each set-based: one statement per batch, never one per event."""

from sqlalchemy import text

# Arbitrary constants naming our advisory locks; the two-key form used for leadership lives in another key space.
APPEND_LOCK_KEY = 0x5241_5050_4150  # "RAPPAP"
LEADERSHIP_CLASS = 0x5241_5050  # "RAPP"

APPEND_LOCK = text(f"SELECT pg_advisory_xact_lock({APPEND_LOCK_KEY})")

_STORED = "SELECT event_id, position FROM events WHERE event_id = ANY(CAST(:ids AS text[]))"
STORED_POSITIONS = text(_STORED)

# max() per customer walks the (customer_id, sequence) unique index backwards: one index probe each. Whether the
# customer was erased rides along in the same statement, so the common batch pays no extra round trip for it.
_CUSTOMERS = (
    "SELECT c.customer_id, (SELECT max(e.sequence) FROM events e WHERE e.customer_id = c.customer_id), "
    "EXISTS (SELECT 1 FROM erased_customers x WHERE x.customer_id = c.customer_id) "
    "FROM unnest(CAST(:customers AS text[])) AS c(customer_id)"
)
CUSTOMERS = text(_CUSTOMERS)
# A batch that names no identity knows its customers before it reads anything, so both reads go in one round trip
# while the append holds its turn: rows of (is a stored id, event or customer id, position or last sequence, erased).
STORED_AND_CUSTOMERS = text(
    f"SELECT true, s.event_id, s.position, false FROM ({_STORED}) AS s(event_id, position) "
    f"UNION ALL SELECT false, c.customer_id, c.last, c.erased FROM ({_CUSTOMERS}) AS c(customer_id, last, erased)"
)

# One lookup for every identity a batch names (the hash includes the kind, so it alone is selective).
LINKS = text("SELECT kind, value_hash, customer_id FROM identity_links WHERE value_hash = ANY(CAST(:hashes AS text[]))")
SET_LINKS = text(
    "INSERT INTO identity_links (kind, value_hash, customer_id, event_id) "
    "SELECT r.kind, r.value_hash, r.customer_id, r.event_id "
    "FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(kind text, value_hash text, customer_id text, event_id text) "
    "ON CONFLICT (kind, value_hash) DO UPDATE SET customer_id = EXCLUDED.customer_id, event_id = EXCLUDED.event_id"
)
REMOVE_LINKS = text(
    "DELETE FROM identity_links l USING jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(kind text, value_hash text) "
    "WHERE l.kind = r.kind AND l.value_hash = r.value_hash"
)

# Erasure, in the transaction that stores the erasure event. The trigger on `events` lets this UPDATE through
# only with the transaction-local switch on and only as exactly `rapport_redacted()` (see migration 0002).
REDACTION_ON = text("SELECT set_config('rapport.redaction', 'on', true)")
REDACT_EVENTS = text(
    "UPDATE events SET envelope = rapport_redacted(envelope, type) "
    "WHERE customer_id = ANY(CAST(:customers AS text[])) AND envelope <> rapport_redacted(envelope, type) "
    "RETURNING customer_id"
)
FORGET_LINKS = text(
    "DELETE FROM identity_links WHERE customer_id = ANY(CAST(:customers AS text[])) RETURNING customer_id"
)
RECORD_ERASED = text(
    "INSERT INTO erased_customers (customer_id, event_id) "
    "SELECT * FROM unnest(CAST(:customers AS text[]), CAST(:event_ids AS text[])) ON CONFLICT DO NOTHING"
)

# Delivered at commit to every session listening (a leading relay, in whichever replica): the wake-up that spares
# a leader polling for other replicas' appends. One per append transaction (two when it erases: the insert's, then
# an anonymous one). The payload names the appending store when the batch is handed over, so a leader in the same
# process, which gets those events in memory, ignores it.
APPENDED_CHANNEL = "rapport_events_appended"
NOTIFY_APPENDED = text(f"SELECT pg_notify('{APPENDED_CHANNEL}', :appender)")  # on its own: after an erasure

# ORDER BY ord hands out positions in batch order, so a customer's sequence and position rise together.
# The commit notice rides on the insert: one round trip fewer while the append holds its turn.
# `notified` is materialised once, and read once `inserted` has a row, which an insert that did not fail has.
INSERT_EVENTS = text(
    "WITH inserted AS (INSERT INTO events (event_id, customer_id, sequence, type, source, occurred_at, envelope) "
    "SELECT r.event_id, r.customer_id, r.sequence, r.type, r.source, r.occurred_at, r.envelope "
    "FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(ord int, event_id text, customer_id text, "
    "sequence int, type text, source text, occurred_at timestamptz, envelope jsonb) "
    "ORDER BY r.ord RETURNING event_id, position, recorded_at), "
    f"notified AS MATERIALIZED (SELECT pg_notify('{APPENDED_CHANNEL}', :appender)) "
    "SELECT inserted.event_id, inserted.position, inserted.recorded_at FROM inserted, notified"
)

# The canonical document is built here, so the relay sends bytes without parsing JSON in Python.
# (`\:` keeps SQLAlchemy from reading :MI and :SS as bind parameters.)
# Our attributes go on the right of ||, so a producer's own `position` extension can never survive.
_CANONICAL = (
    "(envelope || jsonb_build_object('position', position, 'sequence', sequence, 'recordedat', "
    "to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24\\:MI\\:SS.US\"Z\"')))::text"
)
READ_FROM = text(
    f"SELECT position, customer_id, event_id, type, envelope->>'traceparent', {_CANONICAL} "
    "FROM events WHERE position > :after ORDER BY position LIMIT :limit"
)
# A page of the event log for rebuilds, joined by PostgreSQL: Python touches no event, only the page's bytes.
# The head comes from the same snapshot, and positions become visible in commit order, so none below it is missing.
READ_LOG = text(
    f"WITH page AS (SELECT position, {_CANONICAL} AS doc FROM events WHERE position > :after "
    "AND (:shards = 1 OR abs(hashtextextended(customer_id, 0) % :shards) = :shard) "
    "ORDER BY position LIMIT :limit) "
    "SELECT count(*), coalesce(max(position), :after), coalesce(string_agg(doc || E'\\n', '' ORDER BY position), ''), "
    "(SELECT coalesce(max(position), 0) FROM events) FROM page"
)
HEAD = text("SELECT coalesce(max(position), 0) FROM events")


# Leadership is per (relay, Kafka cluster): a relay attached to another cluster never holds the lock the
# checkpoint's own cluster's relays wait for, so a stray one cannot keep them from leading.
TRY_LEAD = text(f"SELECT pg_try_advisory_lock({LEADERSHIP_CLASS}, hashtext(:name || '@' || :cluster))")
UNLEAD = text(f"SELECT pg_advisory_unlock({LEADERSHIP_CLASS}, hashtext(:name || '@' || :cluster))")

# A checkpoint belongs to the cluster that first led it (or led it first after migration 0004); the row-level
# conflict makes two first leaders of different clusters agree on one owner.
CLAIM_CHECKPOINT = text(
    "INSERT INTO relay_checkpoints (name, position, cluster_id) VALUES (:name, 0, :cluster) "
    "ON CONFLICT (name) DO UPDATE SET cluster_id = EXCLUDED.cluster_id WHERE relay_checkpoints.cluster_id IS NULL"
)
CHECKPOINT_CLUSTER = text("SELECT cluster_id FROM relay_checkpoints WHERE name = :name")
LOAD_CHECKPOINT = text("SELECT position FROM relay_checkpoints WHERE name = :name")
# Moves only while the checkpoint still belongs to the saver's cluster: no row updated means fenced off.
SAVE_CHECKPOINT = text("UPDATE relay_checkpoints SET position = :position WHERE name = :name AND cluster_id = :cluster")

# max(position) walks the primary key backwards: one index probe, cheap enough for every scrape.
RELAY_BACKLOG = text(
    "SELECT coalesce((SELECT max(position) FROM events), 0) "
    "- coalesce((SELECT position FROM relay_checkpoints WHERE name = :name), 0)"
)
SCHEMA_VERSION = text("SELECT version_num FROM alembic_version_experience")
SCHEMA_VERSION_TABLE_EXISTS = text("SELECT to_regclass('alembic_version_experience') IS NOT NULL")
