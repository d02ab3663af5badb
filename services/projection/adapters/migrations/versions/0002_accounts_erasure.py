"""Account memberships and views, erased customers, and timeline filters by time."""

from alembic import op

revision = "p0002"
down_revision = "p0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every membership decision's latest word, former members included: they still count in the account's
    # position and version, so the same events always give the same account view.
    op.execute(
        """
        CREATE TABLE account_members (
            account_id text NOT NULL,
            customer_id text NOT NULL,
            role text NOT NULL,
            member boolean NOT NULL,
            position bigint NOT NULL,
            PRIMARY KEY (account_id, customer_id)
        )
        """
    )
    op.execute("CREATE INDEX account_members_by_customer ON account_members (customer_id)")
    op.execute(
        """
        CREATE TABLE account_views (
            account_id text PRIMARY KEY,
            version bigint NOT NULL,
            position bigint NOT NULL,
            view jsonb NOT NULL,
            revision bigint NOT NULL DEFAULT 1,
            published_revision bigint NOT NULL DEFAULT 0
        )
        """
    )
    op.execute(
        "CREATE INDEX account_views_unpublished ON account_views (account_id) WHERE published_revision < revision"
    )
    # Erased customers stay listed (id and the erasure's position only) so no replay can bring them back.
    op.execute(
        """
        CREATE TABLE erased_views (
            customer_id text PRIMARY KEY,
            position bigint NOT NULL,
            tombstone_published boolean NOT NULL DEFAULT false
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE erased_views")
    op.execute("DROP TABLE account_views")
    op.execute("DROP TABLE account_members")
