"""GET /staff/stats: the statistics page with server-side SVG charts."""

from __future__ import annotations

import asyncio

from aiohttp import web
from sqlalchemy.engine import Engine

from bot import notices
from bot.feedback import MISS_KINDS
from bot.web import charts, stats
from bot.web.keys import DATABASE, SETTINGS
from bot.web.staff_base import label, login_required, render_page

# Holds the read-only tracker engine, opened on first use (the app's state is frozen
# once it runs, so the key holds a mutable box).
TRACKER = web.AppKey("tracker_engine", dict)


def _tracker(app: web.Application) -> Engine | None:
    box = app[TRACKER]
    if box.get("engine") is None:
        # Not cached while absent: the tracker store may appear once Rasa has started.
        box["engine"] = stats.tracker_engine(app[SETTINGS].tracker_db_url)
    return box["engine"]


async def close_tracker(app: web.Application) -> None:
    engine = app[TRACKER].pop("engine", None)
    if engine is not None:
        engine.dispose()


@login_required
async def statistics(request: web.Request) -> web.Response:
    try:
        days = int(request.query.get("dager", "30"))
    except ValueError:
        days = 30
    if days not in stats.PERIODS:
        days = 30
    since = stats.period_start(days)
    tracker = await asyncio.to_thread(stats.tracker_figures, _tracker(request.app), since, days)
    figures = await request.app[DATABASE].run_async(
        lambda s: stats.collect(s, tracker, since, days)
    )
    notice_figures = await request.app[DATABASE].run_async(notices.figures)
    per_day = [(d.strftime("%d.%m"), n) for d, n in tracker.per_day]
    return await render_page(
        request,
        "stats.html",
        {
            "s": figures,
            "periods": stats.PERIODS,
            "active": "stats",
            "per_day": charts.columns(per_day),
            "per_topic": charts.horizontal(
                [(label("topic", t), n) for t, n in figures.tickets_per_topic]
            ),
            "per_municipality": charts.horizontal(figures.tickets_per_municipality),
            "notice_figures": notice_figures,
            "outcome_names": stats.OUTCOMES,
            "miss_kinds": MISS_KINDS,
            # One chart per measure: its share of the week's conversations, in percent.
            "outcome_charts": [
                (
                    m,
                    charts.columns(
                        [
                            (w.short, round(100 * (w.share(m) or 0)))
                            for w in figures.outcomes_per_week
                        ]
                    ),
                )
                for m in stats.OUTCOMES
            ],
        },
    )
