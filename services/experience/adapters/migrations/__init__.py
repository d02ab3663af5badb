"""Alembic migrations of the event store, kept in their own version table beside the projection's."""
