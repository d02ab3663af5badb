"""Customer views, timeline entries and consumer offsets."""

from alembic import op

revision = "p0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE customer_views (
            customer_id text PRIMARY KEY,
            version bigint NOT NULL,
            position bigint NOT NULL,
            updated_at timestamptz,
            view jsonb NOT NULL,
            fold_state jsonb NOT NULL,
            published_position bigint NOT NULL DEFAULT 0
        )
        """
    )
    # Finds views committed but not yet on the view topic (a crash between commit and publish) without a scan.
    op.execute(
        "CREATE INDEX customer_views_unpublished ON customer_views (customer_id) WHERE published_position < position"
    )
    op.execute(
        """
        CREATE TABLE timeline_entries (
            event_id text PRIMARY KEY,
            customer_id text NOT NULL,
            position bigint NOT NULL,
            occurred_at timestamptz NOT NULL,
            channel text NOT NULL,
            kind text NOT NULL,
            feeling text NOT NULL,
            entry jsonb NOT NULL
        )
        """
    )
    op.execute(
        "CREATE INDEX timeline_entries_newest_first ON timeline_entries (customer_id, occurred_at DESC, position DESC)"
    )
    op.execute(
        """
        CREATE TABLE consumer_offsets (
            consumer_group text NOT NULL,
            topic text NOT NULL,
            partition integer NOT NULL,
            next_offset bigint NOT NULL,
            PRIMARY KEY (consumer_group, topic, partition)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE consumer_offsets")
    op.execute("DROP TABLE timeline_entries")
    op.execute("DROP TABLE customer_views")
