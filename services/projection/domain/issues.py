"""Open complaints and support cases: which are still unresolved, decided by time so arrival order is moot.

An issue is a complaint or support case whose outcome is unresolved, pending or escalated. With an
`attributes.case_id` it stays open until a resolved complaint or support case of the same case id happened later
(by event time); without one, until any resolved complaint or support case happened later.
"""

from services.projection.domain.events import iso
from services.projection.domain.state import CaseState, CustomerState, RecentState, keep_latest

ISSUE_KINDS = frozenset({"complaint", "support_case"})
OPEN_OUTCOMES = frozenset({"unresolved", "pending", "escalated"})
RESOLVED = "resolved"


def track_issue(
    state: CustomerState, entry: RecentState, case_id: str | None, loose_limit: int, case_limit: int
) -> None:
    if entry.outcome == RESOLVED:
        _resolve(state, entry, case_id)
    elif entry.outcome in OPEN_OUTCOMES:
        _open(state, entry, case_id, loose_limit)
    else:
        return
    if case_id is not None and len(state.cases) > case_limit:
        # Bounded state: forget the case least recently active (ties by id, so the choice is deterministic).
        stale = min(state.cases, key=lambda key: (state.cases[key].last_us(), key))
        del state.cases[stale]


def _resolve(state: CustomerState, entry: RecentState, case_id: str | None) -> None:
    if state.resolved_us is None or entry.time_us > state.resolved_us:
        state.resolved_us = entry.time_us
        # Filtering on a time threshold and keeping the newest N commute: the kept set is order-independent.
        state.loose_issues = [issue for issue in state.loose_issues if issue.time_us > entry.time_us]
    if case_id is not None:
        case = state.cases.setdefault(case_id, CaseState())
        if case.resolved_us is None or entry.time_us > case.resolved_us:
            case.resolved_us = entry.time_us


def _open(state: CustomerState, entry: RecentState, case_id: str | None, loose_limit: int) -> None:
    if case_id is not None:
        case = state.cases.setdefault(case_id, CaseState())
        if case.open_us is None or (entry.time_us, entry.event_id) > (case.open_us, case.open_event_id or ""):
            case.open_us, case.open_event_id, case.open_kind = entry.time_us, entry.event_id, entry.kind
        return
    if state.resolved_us is not None and entry.time_us <= state.resolved_us:
        return
    keep_latest(state.loose_issues, entry, loose_limit)


# (time_us, event_id, kind, case_id, time as RFC 3339): the time formatted where the fold already did it once
OpenIssue = tuple[int, str, str, str | None, str]


def open_issues(state: CustomerState) -> list[OpenIssue]:
    """Every open issue, newest first."""
    found: list[OpenIssue] = [
        (i.time_us, i.event_id, i.kind, None, i.time or iso(i.time_us)) for i in state.loose_issues
    ]
    for case_id, case in state.cases.items():
        if case.open_us is not None and (case.resolved_us is None or case.open_us > case.resolved_us):
            found.append((case.open_us, case.open_event_id or "", case.open_kind, case_id, iso(case.open_us)))
    found.sort(key=lambda issue: (issue[0], issue[1]), reverse=True)
    return found
