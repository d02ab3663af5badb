"""Open complaints and support cases: which are still unresolved, decided by time so arrival order is moot.

A complaint or support case is open unless its outcome closes it (resolved, cancelled): one recorded without an
outcome is one nobody has closed yet. With a `case_id` (or, in older events, `attributes.case_id`) it stays open
until a closing complaint or support case of the same case id happened later (by event time). Without one, it
stays open until a closing event of the same kind, also without a case id, happened later for the same customer: a
resolved return of a parcel says nothing about the complaint about the staff.
"""

from services.projection.domain.events import iso
from services.projection.domain.state import CaseState, CustomerState, RecentState, keep_latest

ISSUE_KINDS = frozenset({"complaint", "support_case"})
CLOSING_OUTCOMES = frozenset({"resolved", "cancelled"})


def track_issue(
    state: CustomerState, entry: RecentState, case_id: str | None, loose_limit: int, case_limit: int
) -> None:
    if entry.outcome in CLOSING_OUTCOMES:
        _close(state, entry, case_id)
    else:
        _open(state, entry, case_id, loose_limit)
    if case_id is not None and len(state.cases) > case_limit:
        # Bounded state: forget the case least recently active (ties by id, so the choice is deterministic).
        stale = min(state.cases, key=lambda key: (state.cases[key].last_us(), key))
        del state.cases[stale]


def _close(state: CustomerState, entry: RecentState, case_id: str | None) -> None:
    if case_id is not None:
        case = state.cases.setdefault(case_id, CaseState())
        if case.resolved_us is None or entry.time_us > case.resolved_us:
            case.resolved_us = entry.time_us
        return
    kind, closed_us = entry.kind, state.closed_by_kind.get(entry.kind)
    if closed_us is None or entry.time_us > closed_us:
        state.closed_by_kind[kind] = entry.time_us
        # A time threshold and the newest N per kind commute: the kept set is the same in any arrival order.
        state.loose_issues = [i for i in state.loose_issues if i.kind != kind or i.time_us > entry.time_us]


def _open(state: CustomerState, entry: RecentState, case_id: str | None, loose_limit: int) -> None:
    if case_id is not None:
        case = state.cases.setdefault(case_id, CaseState())
        if case.open_us is None or (entry.time_us, entry.event_id) > (case.open_us, case.open_event_id or ""):
            case.open_us, case.open_event_id, case.open_kind = entry.time_us, entry.event_id, entry.kind
        return
    closed_us = state.closed_by_kind.get(entry.kind)
    if closed_us is not None and entry.time_us <= closed_us:
        return
    # The newest `loose_limit` of each kind: bounded per kind, so closing one kind never lets an older issue of
    # another kind back in that a shared bound had already pushed out (which would depend on arrival order).
    same = [i for i in state.loose_issues if i.kind == entry.kind]
    keep_latest(same, entry, loose_limit)
    others = [i for i in state.loose_issues if i.kind != entry.kind]
    state.loose_issues = sorted([*others, *same], key=lambda i: (i.time_us, i.position), reverse=True)


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
