"""Use cases around milk-flow reports that other features start."""
from __future__ import annotations

from db.queries import mothers as mothers_q
from db.queries import reports as reports_q
from db.queries.mothers import Mother
from db.queries.reports import FLOWS
from usecases.events import SessionLogged
from usecases.ports import Buttons, Deps


def flow_buttons(texts, lang: str, data_prefix: str) -> Buttons:
    """The three milk-flow answers as buttons `<data_prefix><flow>`."""
    return [[(texts.t(lang, f"reports.flow.{flow}"), f"{data_prefix}{flow}")] for flow in FLOWS]


async def note_activity(deps: Deps, event: SessionLogged) -> None:
    """A session counts as activity: before/after phases follow it, and an open "no news from
    her" alert closes."""
    await reports_q.refresh_phases(deps.db, event.mother_id)
    await reports_q.close_inactivity_alert(deps.db, event.mother_id, deps.clock.now())


async def send_flow_buttons(deps: Deps, user_id: int, mother: Mother, key_self: str, key_other: str) -> bool:
    """"How is the milk?" with one-tap answers that start a report, in the recipient's language."""
    key = key_self if user_id == mother.user_id else key_other
    return await deps.notifier.notify(
        user_id, key, lambda lang: flow_buttons(deps.texts, lang, f"rep:o:{mother.user_id}:"),
        mother=mother.display_name)


async def offer_after_session(deps: Deps, mother_id: int, logged_by: int | None = None) -> None:
    """After a logged massage: asks the mother (and the companion who logged it, if any) "how is
    the milk now?". Not after the loss of her baby (flows/care_status.py)."""
    mother = await mothers_q.get_mother(deps.db, mother_id)
    if mother is None or mother.care_status == "loss":
        return
    await send_flow_buttons(deps, mother_id, mother, "reports.offer.text_self", "reports.offer.text")
    if logged_by is not None and logged_by != mother_id:
        if await reports_q.may_report_for(deps.db, logged_by, "companion", mother_id) is not None:
            await send_flow_buttons(deps, logged_by, mother, "reports.offer.text_self", "reports.offer.text")
