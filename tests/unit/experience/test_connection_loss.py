"""A dropped database connection is told apart from a bad statement: the first is a 503 to retry, not a 500."""

import asyncpg
from sqlalchemy.exc import DBAPIError, IntegrityError

from services.common.connection_loss import connection_lost


def wrapped(driver_error: Exception) -> DBAPIError:
    return DBAPIError("INSERT ...", {}, driver_error)


def test_a_terminated_or_vanished_connection_is_lost() -> None:
    assert connection_lost(wrapped(asyncpg.exceptions.AdminShutdownError("terminating connection")))
    assert connection_lost(wrapped(asyncpg.exceptions.ConnectionDoesNotExistError("closed mid-operation")))
    assert connection_lost(wrapped(asyncpg.exceptions.CannotConnectNowError("the database system is starting up")))
    assert connection_lost(ConnectionRefusedError())


def test_an_error_in_the_statement_is_not() -> None:
    assert not connection_lost(IntegrityError("INSERT ...", {}, asyncpg.exceptions.UniqueViolationError("dup")))
    assert not connection_lost(wrapped(asyncpg.exceptions.UndefinedTableError("no such table")))
    assert not connection_lost(ValueError("not a database error"))
