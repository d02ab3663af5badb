"""A relay checkpoint belongs to one Kafka cluster: the one whose relay claimed it first.

Revision ID: 0004
Revises: 0003

Leadership used to be keyed by the topic's name alone, so a stray relay attached to another broker (an orphaned
stack sharing the database) could take it and publish the stream where nobody reads it. The checkpoint now
records the cluster id its positions were published to; relays of another cluster do not lead. Existing
checkpoints start unclaimed (NULL) and go to the first relay that leads after this revision.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("relay_checkpoints", sa.Column("cluster_id", sa.Text, nullable=True))


def downgrade() -> None:
    op.drop_column("relay_checkpoints", "cluster_id")
