"""Schema of the projection's tables, as Alembic migrations with their own version table."""
