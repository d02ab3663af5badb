"""Identity links, erased customers, and the one rewrite the event store allows: redacting personal fields.

Revision ID: 0002
Revises: 0001

How redaction gets past the append-only trigger: the trigger lets an UPDATE through only when the transaction
has said `SET LOCAL rapport.redaction = 'on'` (so it cannot happen by accident, and ends with the transaction)
AND the new row is exactly the old row with `rapport_redacted()` applied (so even a deliberate UPDATE can
remove personal fields and nothing else: no fact, time, type, position or sequence can change). DELETE and
every other UPDATE are refused as before. A SECURITY DEFINER function would only help with separate database
roles for migration and service, which this deployment does not have; the row check protects either way.

The paths below are frozen with this revision; a later change to contracts.catalog.PERSONAL_FIELDS needs a new
revision that replaces `rapport_redacted` (a unit test compares them).
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Paths inside the stored envelope, by event type. Stored identity events hold `value_hash`, never `value`;
# both go (the hash still singles a person out to whoever holds the key).
REDACTED_PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    "cx.touchpoint.recorded.v1": (
        ("data", "note"),
        ("data", "attributes"),
        ("data", "handled_by"),
        ("data", "identity"),
    ),
    "cx.preference.stated.v1": (("data", "preferences", "name_to_use"),),
    "cx.identity.linked.v1": (("data", "identity", "value"), ("data", "identity", "value_hash")),
    "cx.identity.unlinked.v1": (("data", "identity", "value"), ("data", "identity", "value_hash")),
}


def _stripped_sql() -> str:
    cases = " ".join(
        f"WHEN '{event_type}' THEN envelope " + " ".join(f"#- '{{{','.join(path)}}}'" for path in paths)
        for event_type, paths in REDACTED_PATHS.items()
    )
    return f"CASE event_type {cases} ELSE envelope END"


def upgrade() -> None:
    op.execute(
        "CREATE TABLE identity_links ("
        " kind text NOT NULL, value_hash text NOT NULL, customer_id text NOT NULL, event_id text NOT NULL,"
        " PRIMARY KEY (kind, value_hash))"
    )
    op.execute("CREATE INDEX identity_links_customer ON identity_links (customer_id)")
    op.execute(
        "CREATE TABLE erased_customers ("
        " customer_id text PRIMARY KEY, event_id text NOT NULL, erased_at timestamptz NOT NULL DEFAULT now())"
    )
    # Idempotent: an event without personal fields, or one already redacted, comes back unchanged; a redacted
    # one says so with the `redacted` extension attribute, so readers of cx.events.v1 can tell.
    op.execute(
        "CREATE FUNCTION rapport_redacted(envelope jsonb, event_type text) RETURNS jsonb "
        "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ "
        "SELECT CASE WHEN s.stripped = envelope THEN envelope ELSE s.stripped || '{\"redacted\": true}'::jsonb END "
        f"FROM (SELECT {_stripped_sql()} AS stripped) AS s $$"
    )
    op.execute(
        "CREATE OR REPLACE FUNCTION events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN "
        "IF TG_OP = 'UPDATE' AND current_setting('rapport.redaction', true) = 'on' "
        "AND (NEW.position, NEW.event_id, NEW.customer_id, NEW.sequence, NEW.type, NEW.source, "
        "NEW.occurred_at, NEW.recorded_at) IS NOT DISTINCT FROM (OLD.position, OLD.event_id, OLD.customer_id, "
        "OLD.sequence, OLD.type, OLD.source, OLD.occurred_at, OLD.recorded_at) "
        "AND NEW.envelope = rapport_redacted(OLD.envelope, OLD.type) THEN RETURN NEW; END IF; "
        "RAISE EXCEPTION 'events are append-only (an erasure may only redact personal fields)'; "
        "END $$"
    )


def downgrade() -> None:
    op.execute(
        "CREATE OR REPLACE FUNCTION events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'events are append-only'; END $$"
    )
    op.execute("DROP FUNCTION rapport_redacted(jsonb, text)")
    op.execute("DROP TABLE erased_customers")
    op.execute("DROP TABLE identity_links")
