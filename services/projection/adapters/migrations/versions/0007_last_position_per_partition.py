"""Each partition's last projected record, by position: what lets a worker check that the log under its stored
offset is still the log it read.

A broker that comes back empty gets the event store again from the relay, so a partition's offsets then point at
other records than before. A stored offset that still falls inside the new log would make the worker skip
records it never read. Before trusting the offset, a worker reads the record just below it: if that record is not
the one it last projected (this column), it reads the partition again from the start (positions skip what it had).
Null for offsets saved before this revision: those are trusted as before.
"""

from alembic import op

revision = "p0007"
down_revision = "p0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE consumer_offsets ADD COLUMN last_position bigint")


def downgrade() -> None:
    op.execute("ALTER TABLE consumer_offsets DROP COLUMN last_position")
