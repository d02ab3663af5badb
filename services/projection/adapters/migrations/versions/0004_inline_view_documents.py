"""Keep customer view rows inline: LZ4-compressed documents are small, so let rows up to a page stay unTOASTed.

With `toast_tuple_target` at its default (~2 KB) and STORAGE EXTERNAL, every row above 2 KB moved its documents
into the TOAST table on each update: more tuples, more index entries, more WAL. Raising the target keeps a row of
a few KB on its heap page, where a HOT update rewrites it in place.
"""

from alembic import op

revision = "p0004"
down_revision = "p0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE customer_views SET (toast_tuple_target = 8160)")


def downgrade() -> None:
    op.execute("ALTER TABLE customer_views RESET (toast_tuple_target)")
