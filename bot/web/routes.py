"""URL map of the web service: every route is added here."""

from __future__ import annotations

from aiohttp import web

from bot.web import (
    account_views,
    api,
    auth_views,
    content_views,
    health,
    model_views,
    nlu_views,
    notice_api,
    notice_banner,
    notice_views,
    person_views,
    review,
    stats_views,
    ticket_views,
    widget,
    widget_messages,
)
from bot.web.staff_base import STATIC


async def _staff_root(request: web.Request) -> web.Response:
    raise web.HTTPFound("/staff/")


def setup(app: web.Application) -> None:
    review.setup(app)  # templates, middlewares, staff accounts (not routes)
    r = app.router
    r.add_get("/health", health.health)

    # Staff login and the service-desk pages (docs/review-pages.md).
    r.add_get("/login", auth_views.login_form)
    r.add_post("/login", auth_views.login)
    r.add_post("/logout", auth_views.logout)
    r.add_get("/staff", _staff_root)
    r.add_get("/staff/", ticket_views.queue)
    r.add_get("/staff/tickets/{public_id}", ticket_views.ticket_page)
    r.add_post("/staff/tickets/{public_id}", ticket_views.ticket_update)
    r.add_post(
        "/staff/tickets/{public_id}/meldinger/{turn:\\d+}", content_views.ticket_message_decision
    )
    r.add_get("/staff/notices", notice_views.notice_list)
    r.add_post("/staff/notices", notice_views.notice_create)
    r.add_get("/staff/notices/{notice_id:\\d+}", notice_views.notice_page)
    r.add_post("/staff/notices/{notice_id:\\d+}", notice_views.notice_update)
    r.add_get("/staff/misses", nlu_views.misses)
    r.add_post("/staff/misses/{miss_id:\\d+}", nlu_views.mark)
    r.add_get("/staff/misses/export.yml", nlu_views.export)
    r.add_get("/staff/stats", stats_views.statistics)
    r.add_get("/staff/content", content_views.content_page)
    r.add_get("/staff/content/articles/{article_id}", content_views.article_page)
    r.add_post("/staff/content/articles/{article_id}", content_views.article_update)
    r.add_get("/staff/content/draft", content_views.draft_page)
    r.add_post("/staff/content/draft", content_views.draft_create)
    r.add_get("/staff/models", model_views.models_page)
    r.add_get("/staff/models/status", model_views.training_status)
    r.add_post("/staff/models/train", model_views.train)
    r.add_post("/staff/models/rollback", model_views.rollback)
    r.add_get("/staff/accounts", account_views.accounts)
    r.add_post("/staff/accounts", account_views.create)
    r.add_post("/staff/accounts/{user_id:\\d+}", account_views.change)
    r.add_get("/staff/personvern", person_views.person_page)
    r.add_post("/staff/personvern/eksport", person_views.export)
    r.add_post("/staff/personvern/slett", person_views.delete)
    r.add_static("/static/staff", STATIC)

    # The tickets' JSON API (bot/web/openapi.yaml).
    r.add_get("/api/openapi.json", api.openapi)
    r.add_get("/api/tickets", api.list_tickets)
    r.add_get("/api/tickets/{public_id}", api.get_ticket)
    r.add_patch("/api/tickets/{public_id}", api.patch_ticket)
    r.add_post("/api/tickets/{public_id}/notes", api.add_note)

    # The outage notices' JSON API (bot/web/openapi.yaml).
    r.add_get("/api/notices", notice_api.list_notices)
    r.add_post("/api/notices", notice_api.create_notice)
    r.add_get("/api/notices/{notice_id:\\d+}", notice_api.get_notice)
    r.add_patch("/api/notices/{notice_id:\\d+}", notice_api.patch_notice)

    # The intranet web widget (bot/web/widget.py).
    r.add_get("/widget/demo", widget.demo)
    # Before /widget/{name}, which would take "notices" for a file name.
    r.add_get("/widget/notices", notice_banner.banner)
    r.add_post("/widget/messages", widget_messages.pending)
    r.add_post("/widget/messages/seen", widget_messages.seen)
    r.add_get("/widget/{name}", widget.asset)
    r.add_post("/widget/token", widget.token)
