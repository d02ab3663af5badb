"""Opaque timeline cursors: the (time, position) of the last entry a reader saw, base64url-encoded."""

import base64
from datetime import datetime


class InvalidCursorError(ValueError):
    """A cursor this service did not hand out."""


def encode_cursor(time: str, position: int) -> str:
    return base64.urlsafe_b64encode(f"{time}|{position}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        time, position = raw.rsplit("|", 1)
        return datetime.fromisoformat(time), int(position)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidCursorError("cursor is not one this service returned") from error
