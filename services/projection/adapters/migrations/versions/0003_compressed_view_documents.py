"""Customer views keep `view` and `fold_state` as zlib-compressed orjson bytes (bytea), in a table that leaves
room on each page for updates to stay HOT.

Why: jsonb cost PostgreSQL most of its CPU per event (parse, then pglz TOAST compression of ~8 KB a customer on
every batch); see adapters/documents.py for the figures. The partial index on unpublished views made every update
non-HOT; the republish at worker start now walks the primary key instead (once per start).

For operators: `SELECT view->'experience' ...` and other jsonb queries on customer_views no longer work; the
documents are opaque bytea. Read views through the HTTP API or the view topic, or decode in Python with
services.projection.adapters.documents.decode. account_views and timeline_entries stay jsonb.

Existing rows are converted here, in chunks, in Python (PostgreSQL has no zlib); nothing needs a rebuild.
"""

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import orjson
from alembic import op
from sqlalchemy import text

from services.projection.adapters import documents

revision = "p0003"
down_revision = "p0002"
branch_labels = None
depends_on = None

_CHUNK = 2000
# fillfactor: a customer row is rewritten on most batches; free space on its page lets PostgreSQL write the new
# version there without touching the primary key (HOT) and prune the old one in place.
_TABLE = """
    CREATE TABLE customer_views_next (
        customer_id text PRIMARY KEY,
        version bigint NOT NULL,
        position bigint NOT NULL,
        updated_at timestamptz,
        view {kind} NOT NULL,
        fold_state {kind} NOT NULL,
        published_position bigint NOT NULL DEFAULT 0
    ) {options}
"""
_COPY = """
    INSERT INTO customer_views_next
        (customer_id, version, position, updated_at, view, fold_state, published_position)
    SELECT r.customer_id, v.version, v.position, v.updated_at, CAST(r.view AS {kind}), CAST(r.fold_state AS {kind}),
        v.published_position
    FROM unnest(CAST(:ids AS text[]), CAST(:views AS {carrier}[]), CAST(:states AS {carrier}[]))
        AS r(customer_id, view, fold_state)
    JOIN customer_views v ON v.customer_id = r.customer_id
"""


def _chunks(column_sql: str) -> Iterator[Sequence[Any]]:
    bind, after = op.get_bind(), ""
    while True:
        rows = bind.execute(
            text(f"SELECT customer_id, {column_sql} FROM customer_views WHERE customer_id > :after "
                 "ORDER BY customer_id LIMIT :limit"),
            {"after": after, "limit": _CHUNK},
        ).all()  # fmt: skip
        if not rows:
            return
        yield rows
        after = rows[-1][0]


def _rebuild(kind: str, options: str, column_sql: str, convert: Callable[[Any], Any]) -> None:
    # jsonb travels as text (the engine's own jsonb codec would encode a string a second time).
    carrier = "text" if kind == "jsonb" else kind
    op.execute(_TABLE.format(kind=kind, options=options))
    for rows in _chunks(column_sql):
        op.get_bind().execute(
            text(_COPY.format(kind=kind, carrier=carrier)),
            {"ids": [r[0] for r in rows], "views": [convert(r[1]) for r in rows],
             "states": [convert(r[2]) for r in rows]},
        )  # fmt: skip
    op.execute("DROP TABLE customer_views")  # its partial index customer_views_unpublished goes with it
    op.execute("ALTER TABLE customer_views_next RENAME TO customer_views")
    op.execute("ALTER INDEX customer_views_next_pkey RENAME TO customer_views_pkey")


def upgrade() -> None:
    # Compressed bytes gain nothing from pglz: EXTERNAL skips that attempt when a row goes to TOAST.
    _rebuild("bytea", "WITH (fillfactor = 60)", "view::text, fold_state::text",
             lambda document: documents.encode(orjson.loads(document)))  # fmt: skip
    op.execute(
        "ALTER TABLE customer_views ALTER COLUMN view SET STORAGE EXTERNAL, "
        "ALTER COLUMN fold_state SET STORAGE EXTERNAL"
    )


def downgrade() -> None:
    _rebuild("jsonb", "", "view, fold_state", lambda stored: orjson.dumps(documents.decode(stored)).decode())
    op.execute(
        "CREATE INDEX customer_views_unpublished ON customer_views (customer_id) WHERE published_position < position"
    )
