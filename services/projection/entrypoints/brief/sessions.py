"""Brief sessions: an opaque cookie naming a server-side record of who signed in and what their key may read.

The cookie holds only a random token; the key's name and scopes stay on the server, and so does the key itself
(only to look identities up on the person's behalf when no service key is configured). A session ends after an
idle timeout, at sign-out, or when the process restarts; the oldest give way when too many are open.
"""

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from contracts.auth import ApiKey

COOKIE = "rapport_brief"


@dataclass
class BriefSession:
    token: str
    key: ApiKey
    presented: str = field(repr=False)  # the key as typed, for identity lookups; never rendered or logged
    last_seen: float = 0.0


class SessionStore:
    def __init__(
        self, idle_s: float = 900.0, max_sessions: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._idle_s = idle_s
        self._max = max_sessions
        self._clock = clock
        self._sessions: OrderedDict[str, BriefSession] = OrderedDict()

    @property
    def idle_s(self) -> float:
        return self._idle_s

    def open(self, key: ApiKey, presented: str) -> BriefSession:
        session = BriefSession(secrets.token_urlsafe(32), key, presented, self._clock())
        self._sessions[session.token] = session
        while len(self._sessions) > self._max:
            self._sessions.popitem(last=False)
        return session

    def find(self, token: str | None) -> BriefSession | None:
        """The live session `token` names, touched; None for an unknown or idle-expired one (then forgotten)."""
        session = self._sessions.get(token or "")
        if session is None:
            return None
        now = self._clock()
        if now - session.last_seen > self._idle_s:
            del self._sessions[session.token]
            return None
        session.last_seen = now
        self._sessions.move_to_end(session.token)
        return session

    def close(self, token: str | None) -> None:
        self._sessions.pop(token or "", None)

    def __len__(self) -> int:
        return len(self._sessions)
