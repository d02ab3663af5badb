"""A request refused before its events are stored: status, message, the reason metrics count, extra headers."""


class RequestError(Exception):
    """Answered as `{"errors": [{"message": ...}]}` with `status`; `reason` labels rapport_events_rejected_total."""

    def __init__(
        self, status: int, message: str, *, reason: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason
        self.headers = headers or {}
