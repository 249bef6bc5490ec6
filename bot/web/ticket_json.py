"""Tickets as the JSON API shows them (documented in bot/web/openapi.yaml)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from bot.models import Ticket, TicketAudit, TicketNote
from bot.tickets.transcript import read_transcript


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite returns naive datetimes; we store UTC
        value = value.replace(tzinfo=timezone.utc)
    return value.isoformat()


def note_json(note: TicketNote) -> dict[str, Any]:
    return {"author": note.author, "created_at": iso(note.created_at), "text": note.text}


def ticket_json(
    ticket: Ticket, notes: list[TicketNote] | None = None, audit: list[TicketAudit] | None = None
) -> dict[str, Any]:
    """The list entry; with `notes` the detail (transcript included), with `audit` its history."""
    data: dict[str, Any] = {
        "id": ticket.public_id,
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
        "status": ticket.status,
        "priority": ticket.priority,
        "assignee": ticket.assignee,
        "category": ticket.category,
        "municipality": ticket.municipality,
        "channel": ticket.channel,
        "summary": ticket.summary,
        "requester_name": ticket.requester_name,
    }
    if notes is not None:
        data["description"] = ticket.description
        data["contact"] = ticket.contact
        data["conversation_id"] = ticket.conversation_id
        data["transcript"] = [
            {
                "sender": t.sender,
                "text": t.text,
                "timestamp": iso(t.at),
                "buttons": t.buttons,
                "clicked": t.clicked,
            }
            for t in read_transcript(ticket.transcript)
        ]
        data["notes"] = [note_json(n) for n in notes]
    if audit is not None:
        data["audit"] = [
            {
                "at": iso(a.at),
                "actor": a.actor,
                "action": a.action,
                "field": a.field,
                "old_value": a.old_value,
                "new_value": a.new_value,
            }
            for a in audit
        ]
    return data
