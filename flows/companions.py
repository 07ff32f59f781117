"""Companions: the mother's invite link and list, a companion's mothers, leaving a link."""
from __future__ import annotations

from telegram import Update

from bot.actor import load_actor
from db.queries import companions, mothers
from flows import menu
from flows.onboarding import invite_link
from flows.ui import close_buttons, keyboard, send


async def show(update: Update, context) -> None:
    """Mother: her invite link and companions. Companion: the mothers she accompanies."""
    actor = await load_actor(update, context)
    await close_buttons(update)
    t, db = context.texts.t, context.db
    if actor.role == "mother":
        code = await companions.current_invite(db, actor.user_id, context.services.now_iso())
        links = await companions.links_of_mother(db, actor.user_id)
        names = "\n".join(f"• {l.companion_name} ({t(actor.lang, f'onboarding.relation_{l.relation}')})"
                          for l in links) or t(actor.lang, "companions.none_yet")
        await send(update, t(actor.lang, "companions.mother_overview", companions=names))
        await send(update, t(actor.lang, "companions.invite_text", link=invite_link(context, code)))
        rows = [[(t(actor.lang, "companions.remove", name=l.companion_name), f"cmp:rm:{l.companion_id}")]
                for l in links]
        rows.append([(t(actor.lang, "companions.renew"), "cmp:renew")])
        await send(update, t(actor.lang, "companions.manage"), keyboard(rows))
    elif actor.role == "companion":
        links = await companions.links_of_companion(db, actor.user_id)
        if not links:
            await send(update, t(actor.lang, "companions.no_mothers"))
            return
        text = "\n".join(f"• {l.mother_name}" for l in links)
        rows = [[(t(actor.lang, "companions.leave", mother=l.mother_name), f"cmp:leave:{l.mother_id}")]
                for l in links]
        await send(update, t(actor.lang, "companions.companion_overview", mothers=text), keyboard(rows))
    else:
        await menu.show_menu(update, context, actor)


async def renew(update: Update, context) -> None:
    actor = await load_actor(update, context)
    if actor.role != "mother":
        await close_buttons(update)
        return await menu.show_menu(update, context, actor)
    await close_buttons(update, context.texts.t(actor.lang, "companions.renew"))
    code = await companions.revoke_and_renew(context.db, actor.user_id, context.services.now_iso())
    await send(update, context.texts.t(actor.lang, "companions.renewed"))
    await send(update, context.texts.t(actor.lang, "companions.invite_text", link=invite_link(context, code)))


async def remove(update: Update, context) -> None:
    """The mother removes one companion (callback `cmp:rm:<companion id>`)."""
    actor = await load_actor(update, context)
    companion_id = _int_arg(update)
    mother = await mothers.get_mother(context.db, actor.user_id) if actor.role == "mother" else None
    if mother is None or companion_id is None or not await companions.unlink(context.db, actor.user_id, companion_id):
        await close_buttons(update, alert=context.texts.t(actor.lang, "common.stale_button_short"))
        return
    await close_buttons(update, context.texts.t(actor.lang, "companions.removed"))
    await menu.notify(context, companion_id, "companions.removed_notice", mother=mother.display_name)


async def leave(update: Update, context) -> None:
    """A companion stops accompanying a mother (callback `cmp:leave:<mother id>`)."""
    actor = await load_actor(update, context)
    mother_id = _int_arg(update)
    mother = await mothers.get_mother(context.db, mother_id) if mother_id else None
    if actor.role != "companion" or mother is None or not await companions.unlink(context.db, mother_id, actor.user_id):
        await close_buttons(update, alert=context.texts.t(actor.lang, "common.stale_button_short"))
        return
    await close_buttons(update, context.texts.t(actor.lang, "companions.left", mother=mother.display_name))
    await menu.notify(context, mother_id, "companions.left_notice", companion=update.effective_user.first_name or "")


def _int_arg(update: Update) -> int | None:
    last = update.callback_query.data.rsplit(":", 1)[-1]
    return int(last) if last.lstrip("-").isdigit() else None
