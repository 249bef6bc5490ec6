"""Pages for Rakel's content: approved changes, article edits, new article drafts, and
decisions on a user message of a ticket's conversation (bot/content_changes.py)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from bot import content_changes
from bot.content.catalogue import catalogue
from bot.content_changes import ChangeError, Draft
from bot.models import NluMiss
from bot.web import nlu_review, nlu_views
from bot.web.keys import DATABASE, SETTINGS
from bot.web.staff_base import STAFF, login_required, render_page


def _knowledge_dir(request: web.Request) -> Any:
    return request.app[SETTINGS].knowledge_dir


@login_required
async def content_page(request: web.Request) -> web.Response:
    changes, audit = await request.app[DATABASE].run_async(
        lambda s: (content_changes.changes(s), content_changes.audit_trail(s))
    )
    content = catalogue(_knowledge_dir(request))
    by_topic: dict[str, list[Any]] = {}
    for article in content.articles.values():
        by_topic.setdefault(article.topic, []).append(article)
    return await render_page(
        request,
        "content.html",
        {
            "changes": [(c, json.loads(c.after)) for c in changes],
            "audit": audit,
            "by_topic": by_topic,
            "saved": request.query.get("lagret"),
            "active": "content",
        },
    )


async def _render_article(
    request: web.Request,
    article_id: str,
    values: dict[str, str] | None = None,
    problems: list[str] | None = None,
    status: int = 200,
) -> web.Response:
    content = catalogue(_knowledge_dir(request))
    article = content.articles.get(article_id)
    if article is None:
        raise web.HTTPNotFound()
    if values is None:
        answer, examples = await request.app[DATABASE].run_async(
            lambda s: (
                content_changes.effective_value(s, article_id, "answer", article.answer),
                content_changes.effective_value(s, article_id, "examples", list(article.examples)),
            )
        )
        values = {"answer": answer, "examples": "\n".join(examples)}
    return await render_page(
        request,
        "content_article.html",
        {
            "article": article,
            "v": values,
            "problems": problems or [],
            "saved": request.query.get("lagret") == "1",
            "active": "content",
        },
        status=status,
    )


@login_required
async def article_page(request: web.Request) -> web.Response:
    return await _render_article(request, request.match_info["article_id"])


@login_required
async def article_update(request: web.Request) -> web.Response:
    """Answer text and example questions in one form; both are stored or neither."""
    article_id = request.match_info["article_id"]
    form = await request.post()
    values = {field: str(form.get(field, "")) for field in content_changes.EDITABLE_FIELDS}
    actor = request[STAFF].username
    knowledge_dir = _knowledge_dir(request)
    if article_id not in catalogue(knowledge_dir).articles:
        raise web.HTTPNotFound()

    def work(session: Any) -> list[Any]:
        return [
            content_changes.edit_article(session, article_id, field, value, actor, knowledge_dir)
            for field, value in values.items()
        ]

    try:
        await request.app[DATABASE].run_async(work)
    except ChangeError as exc:
        return await _render_article(request, article_id, values, exc.problems, status=400)
    raise web.HTTPSeeOther(f"/staff/content/articles/{article_id}?lagret=1")


def _draft_values(form: Any) -> dict[str, Any]:
    section = str(form.get("report_section", ""))
    return {
        "title": str(form.get("title", "")),
        "answer": str(form.get("answer", "")),
        "topic": str(form.get("topic", "")),
        "examples": str(form.get("examples", "")),
        "report_section": section,
        "general_guidance": form.get("general_guidance") == "1",
        "needs_person": form.get("needs_person") == "1",
    }


async def _render_draft(
    request: web.Request,
    values: dict[str, Any],
    miss_id: int | None,
    problems: list[str] | None = None,
    status: int = 200,
) -> web.Response:
    content = catalogue(_knowledge_dir(request))
    return await render_page(
        request,
        "content_draft.html",
        {
            "v": values,
            "miss_id": miss_id,
            "problems": problems or [],
            "topics": content.article_topics(),
            "sections": content_changes.report_section_names(),
            "max_answer": content_changes.MAX_ANSWER,
            "active": "content",
        },
        status=status,
    )


def _miss_id(value: Any) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@login_required
async def draft_page(request: web.Request) -> web.Response:
    """The draft form; from a message (?melding=<id>), its text is the first example."""
    miss_id = _miss_id(request.query.get("melding"))
    text = ""
    if miss_id is not None:
        miss = await request.app[DATABASE].run_async(lambda s: s.get(NluMiss, miss_id))
        if miss is None:
            raise web.HTTPNotFound()
        text = miss.text
    values = {
        "title": "",
        "answer": "",
        "topic": "",
        "examples": text,
        "report_section": "",
        "general_guidance": False,
        "needs_person": False,
    }
    return await _render_draft(request, values, miss_id)


@login_required
async def draft_create(request: web.Request) -> web.Response:
    form = await request.post()
    values = _draft_values(form)
    miss_id = _miss_id(form.get("miss_id"))
    actor = request[STAFF].username
    knowledge_dir = _knowledge_dir(request)
    try:
        change = await request.app[DATABASE].run_async(
            lambda s: (
                content_changes.create_draft(
                    s, Draft(**values), actor, knowledge_dir, miss_id=miss_id
                ).id
            )
        )
    except ChangeError as exc:
        return await _render_draft(request, values, miss_id, exc.problems, status=400)
    raise web.HTTPSeeOther(f"/staff/content?lagret={change}#change-{change}")


@login_required
async def ticket_message_decision(request: web.Request) -> web.Response:
    """A decision on a user message of a ticket's conversation, as on the misses page."""
    public_id = request.match_info["public_id"]
    turn = int(request.match_info["turn"])
    form = await request.post()
    actor = request[STAFF].username
    # Flagged and decided in one transaction: a refused decision leaves no row behind.
    if draft := await nlu_views.decide(
        request, form, lambda s: content_changes.flag_ticket_message(s, public_id, turn, actor)
    ):
        raise web.HTTPSeeOther(draft)
    raise web.HTTPSeeOther(f"/staff/tickets/{public_id}?vurdert={turn}#turn-{turn}")


async def ticket_decisions(request: web.Request, ticket_id: int) -> dict[str, Any]:
    """What the ticket page needs for a decision form beside every user message: the
    decisions so far, by turn (bot.content_changes.flag_ticket_message's key)."""
    prefix = f"ticket:{ticket_id}:"
    decided = await request.app[DATABASE].run_async(
        lambda s: {
            int(m.message_id.removeprefix(prefix)): m
            for m in s.query(NluMiss).filter(
                NluMiss.kind == "staff_flagged", NluMiss.message_id.like(f"{prefix}%")
            )
        }
    )
    return {
        "decisions": decided,
        "intents": nlu_review.intents_by_topic(),
        "titles": nlu_review.article_titles(),
        "assessed": request.query.get("vurdert"),
    }
