"""Erasure redacts every personal preference: avoid_topics, accessibility and free-form extras besides name_to_use.

Revision ID: 0003
Revises: 0002

0002 removed only `name_to_use` from a stated preference, so an erased customer's topics to avoid and
accessibility needs (which can tell their health or beliefs) and free-form extras (which can hold anything)
stayed in the store. This revision replaces `rapport_redacted`: a redacted preference keeps only the catalogue
names that are not personal, so an extra is redacted whatever its name. It then redacts again the events of the
customers erased before it, under the same trigger rule as an erasure.

The lists below are frozen with this revision; a later change to contracts.catalog.PERSONAL_FIELDS or to the
preference catalogue needs a new revision that replaces `rapport_redacted` (a unit test compares them).
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Paths inside the stored envelope, by event type, as in 0002 but for preferences (see KEPT_PREFERENCES).
# Stored identity events hold `value_hash`, never `value`; both go.
REDACTED_PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    "cx.touchpoint.recorded.v1": (
        ("data", "note"),
        ("data", "attributes"),
        ("data", "handled_by"),
        ("data", "identity"),
    ),
    "cx.identity.linked.v1": (("data", "identity", "value"), ("data", "identity", "value_hash")),
    "cx.identity.unlinked.v1": (("data", "identity", "value"), ("data", "identity", "value_hash")),
}
# What a redacted cx.preference.stated.v1 keeps of `data.preferences`: every other name goes, so an extra the
# catalogue does not know is never kept by accident.
PREFERENCE_STATED = "cx.preference.stated.v1"
KEPT_PREFERENCES: tuple[str, ...] = ("channel", "contact_hours", "timezone", "language", "tone", "frequency")

_0002_PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    **REDACTED_PATHS,
    PREFERENCE_STATED: (("data", "preferences", "name_to_use"),),
}


def _without(paths: tuple[tuple[str, ...], ...]) -> str:
    return "envelope " + " ".join(f"#- '{{{','.join(path)}}}'" for path in paths)


def _kept_preferences() -> str:
    names = ", ".join(f"'{name}'" for name in KEPT_PREFERENCES)
    kept = (
        "(SELECT coalesce(jsonb_object_agg(p.key, p.value), '{}'::jsonb) "
        f"FROM jsonb_each(envelope #> '{{data,preferences}}') AS p WHERE p.key IN ({names}))"
    )
    return (
        "CASE WHEN jsonb_typeof(envelope #> '{data,preferences}') = 'object' "
        f"THEN jsonb_set(envelope, '{{data,preferences}}', {kept}) ELSE envelope END"
    )


def _function(cases: dict[str, str]) -> str:
    # Idempotent: an event without personal fields, or one already redacted, comes back unchanged; a redacted
    # one says so with the `redacted` extension attribute, so readers of cx.events.v1 can tell.
    whens = " ".join(f"WHEN '{event_type}' THEN {sql}" for event_type, sql in cases.items())
    stripped = f"CASE event_type {whens} ELSE envelope END"
    return (
        "CREATE OR REPLACE FUNCTION rapport_redacted(envelope jsonb, event_type text) RETURNS jsonb "
        "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ "
        "SELECT CASE WHEN s.stripped = envelope THEN envelope ELSE s.stripped || '{\"redacted\": true}'::jsonb END "
        f"FROM (SELECT {stripped} AS stripped) AS s $$"
    )


def upgrade() -> None:
    cases = {event_type: _without(paths) for event_type, paths in REDACTED_PATHS.items()}
    op.execute(_function({**cases, PREFERENCE_STATED: _kept_preferences()}))
    # The trigger on `events` lets this through only with the switch on and only as exactly rapport_redacted().
    op.execute("SELECT set_config('rapport.redaction', 'on', true)")
    op.execute(
        "UPDATE events SET envelope = rapport_redacted(envelope, type) "
        "WHERE customer_id IN (SELECT customer_id FROM erased_customers) "
        "AND envelope <> rapport_redacted(envelope, type)"
    )
    op.execute("SELECT set_config('rapport.redaction', 'off', true)")


def downgrade() -> None:
    # What this revision redacted stays redacted: personal data that is gone cannot come back.
    op.execute(_function({event_type: _without(paths) for event_type, paths in _0002_PATHS.items()}))
