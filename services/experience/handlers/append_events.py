"""Append a batch: in the store's turn, read what it knows, let the domain decide, write what was decided."""

from collections.abc import Sequence

from services.experience.adapters.ports import EventStore
from services.experience.domain.admission import plan_append
from services.experience.domain.append import AppendResult, NewEvent, batch_position, customer_positions


async def append_events(store: EventStore, events: Sequence[NewEvent], *, all_or_nothing: bool = True) -> AppendResult:
    """Decide and store a batch in one transaction (see domain.admission): links and erasures included.

    All or nothing: any refusal stores nothing and the result lists the refusals. Otherwise the refused
    events are left out and the rest is stored.
    """
    if not events:
        return AppendResult(accepted=[], duplicates=[], position=0)
    async with store.appending() as batch:
        known = await batch.known(events)
        plan = plan_append(events, known)
        if plan.refusals and all_or_nothing:
            return AppendResult(accepted=[], duplicates=[], position=0, refusals=plan.refusals)
        new_positions = await batch.insert(plan.new) if plan.new else {}
        await batch.save_links(plan.links)
        erasures = await batch.erase(plan.erasures) if plan.erasures else []
    return AppendResult(
        accepted=[n.event.event_id for n in plan.new],
        duplicates=plan.duplicates,
        position=batch_position([*new_positions, *plan.duplicates], known.stored_ids, new_positions),
        refusals=plan.refusals,
        erasures=erasures,
        customers=customer_positions(plan.new, new_positions, events, plan.duplicates, known.stored_ids),
    )
