"""Read-your-writes for every customer of a batch: each partition's highest applied position, and each view's
partition.

POST /v1/events answers a batch with its highest position, which a customer whose own events in it came earlier
never reaches by their view's position. A partition of cx.events.v1 holds its customers' events in position
order, so once the projection has applied position N from a customer's partition, it has applied all of theirs
up to N: the reader asks that partition's mark too.
"""

from alembic import op

revision = "p0005"
down_revision = "p0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A constant default and a nullable column: PostgreSQL adds both without rewriting either table.
    op.execute("ALTER TABLE consumer_offsets ADD COLUMN applied_position bigint NOT NULL DEFAULT 0")
    # No index on it: an unindexed column keeps the view updates HOT. Null until the view's next live write (rows
    # from before this revision or from a rebuild), which leaves the reader on the view's own position.
    op.execute("ALTER TABLE customer_views ADD COLUMN partition integer")


def downgrade() -> None:
    op.execute("ALTER TABLE customer_views DROP COLUMN partition")
    op.execute("ALTER TABLE consumer_offsets DROP COLUMN applied_position")
