"""Rakel's own tables. Schema changes go through Alembic (bot/migrations)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base

# Explicit constraint names so migrations behave the same on SQLite and PostgreSQL.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
# SQLAlchemy 1.4 ships no annotations, so `declarative_base()` returns Any and mypy
# cannot use the result as a base class. Declared Any on purpose: our models are
# plain 1.4 declarative classes whose columns read as Any, like the rest of the ORM.
Base: Any = declarative_base(metadata=metadata)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Feedback(Base):
    """A user's answer to "Hjalp dette?" after a knowledge article."""

    __tablename__ = "feedback"

    id = Column(Integer, primary_key=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    channel = Column(String(64), nullable=True)
    article_id = Column(String(128), nullable=True, index=True)
    helped = Column(Boolean, nullable=False)
    # Rasa's id of the user message answered; a retried action call finds its row.
    message_id = Column(String(64), nullable=True, unique=True)


class NluMiss(Base):
    """A user message Rakel did not handle well: material for improving the NLU.

    kind: one of bot.feedback.MISS_KINDS: "fallback" (not understood),
    "out_of_scope", "not_helped" (the user said "nei" to "Hjalp dette?"), the
    probably-wrong answers (bot/actions/probably_wrong.py), or "staff_flagged" (a
    message staff picked from a ticket's conversation). Staff may set
    `corrected_intent` in the review pages (an article, other IT, out of scope) or
    dismiss the row, and export the corrected messages as Rasa training data.
    """

    __tablename__ = "nlu_misses"

    id = Column(Integer, primary_key=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    channel = Column(String(64), nullable=True)
    kind = Column(String(32), nullable=False, index=True)
    text = Column(Text, nullable=False)
    predicted_intent = Column(String(128), nullable=True)
    confidence = Column(Float, nullable=True)
    corrected_intent = Column(String(128), nullable=True)
    corrected_by = Column(String(128), nullable=True)
    corrected_at = Column(DateTime(timezone=True), nullable=True)
    # Rasa's id of the user message; with `kind`, a retried action call finds its row.
    message_id = Column(String(64), nullable=True)
    # What Rakel replied to `text`: the article id, or for "Mente du …?" the
    # suggested article ids, comma-separated (masked text never goes here).
    answered = Column(String(255), nullable=True)
    # The user's next message, which made the answer look wrong (masked).
    followed_by = Column(Text, nullable=True)
    # Staff saw the row and decided it needs nothing (bot/web/nlu_review.py).
    dismissed_by = Column(String(128), nullable=True)
    dismissed_at = Column(DateTime(timezone=True), nullable=True)

    __table_args__ = (UniqueConstraint("message_id", "kind"),)


# --- service-desk tickets ----------------------------------------------------
# Statuses and priorities are stored as stable ASCII codes; Norwegian labels for
# display live in bot/tickets/labels (content), not in the database.
TICKET_STATUSES = ("ny", "under_arbeid", "venter_paa_bruker", "lost", "lukket")
TICKET_PRIORITIES = ("kritisk", "hoy", "normal")
TICKET_ID_PREFIX = "RAK-"
TICKET_ID_OFFSET = 1000  # RAK-1001 is the first ticket: ids look like case numbers


class Ticket(Base):
    """A case handed to the service desk, with the conversation that led to it.

    `public_id` ("RAK-1042") is derived from the database-assigned primary key, so
    it is unique across any number of Rakel replicas sharing the database.
    """

    __tablename__ = "tickets"

    id = Column(Integer, primary_key=True)
    public_id = Column(String(32), nullable=True, unique=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    channel = Column(String(64), nullable=False)
    conversation_id = Column(String(255), nullable=False, index=True)
    # Who asked, namespaced by where it was verified (bot/identity.py):
    # `teams:<aad id>`, `intranet:<user id>`, else the anonymous conversation id
    # (`anon:<channel>:<sender>`). A person's status lookups compare against this.
    requester_id = Column(String(255), nullable=False, index=True)
    requester_name = Column(String(255), nullable=True)
    contact = Column(String(255), nullable=True)
    municipality = Column(String(32), nullable=True, index=True)
    category = Column(String(32), nullable=False, index=True)  # topic from topics.yml
    priority = Column(String(16), nullable=False, default="normal", index=True)
    summary = Column(String(200), nullable=False)
    description = Column(Text, nullable=False)
    status = Column(String(32), nullable=False, default="ny", index=True)
    assignee = Column(String(128), nullable=True)
    # JSON list of turns: {"sender": "user"|"bot", "text", "timestamp", "buttons", "payload"}
    transcript = Column(Text, nullable=False, default="[]")


class TicketNote(Base):
    """An internal note by service-desk staff (never shown to the user)."""

    __tablename__ = "ticket_notes"

    id = Column(Integer, primary_key=True)
    ticket_id = Column(
        Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    author = Column(String(128), nullable=False)
    text = Column(Text, nullable=False)


class TicketAudit(Base):
    """One change to a ticket: who, when, what field, from what to what."""

    __tablename__ = "ticket_audit"

    id = Column(Integer, primary_key=True)
    ticket_id = Column(
        Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True
    )
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    actor = Column(String(128), nullable=False)  # staff username, or "rakel"
    action = Column(String(32), nullable=False)  # created | changed | note | delivered
    field = Column(String(64), nullable=True)
    old_value = Column(Text, nullable=True)
    new_value = Column(Text, nullable=True)


class OutboxMessage(Base):
    """A ticket waiting to be delivered to the external ITSM system.

    Written in the same transaction as the ticket (transactional outbox), delivered
    by the worker with retries; `idempotency_key` lets the receiver drop repeats.
    """

    __tablename__ = "outbox"

    id = Column(Integer, primary_key=True)
    ticket_id = Column(
        Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    idempotency_key = Column(String(64), nullable=False, unique=True)
    payload = Column(Text, nullable=False)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    delivered_at = Column(DateTime(timezone=True), nullable=True, index=True)
    last_error = Column(Text, nullable=True)


class StaffUser(Base):
    """A service-desk account for the review pages (argon2 hash, never a password)."""

    __tablename__ = "staff_users"

    id = Column(Integer, primary_key=True)
    username = Column(String(128), nullable=False, unique=True)
    password_hash = Column(String(255), nullable=False)
    is_admin = Column(Boolean, nullable=False, default=False)
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    last_login_at = Column(DateTime(timezone=True), nullable=True)
    # Copied into the session cookie at login and compared on every request; logout
    # (or deactivation) increments it, so every cookie issued before stops working.
    session_version = Column(Integer, nullable=False, default=0, server_default="0")


class LoginFailure(Base):
    """One failed staff login, for throttling (bot/web/login_throttle.py).

    In the database so that every web replica counts the same failures. Rows older
    than the throttle's window are deleted as new failures arrive.
    """

    __tablename__ = "login_failures"

    id = Column(Integer, primary_key=True)
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    username = Column(String(128), nullable=False, index=True)
    address = Column(String(64), nullable=False, index=True)


# --- channel conversation references (Teams) ---------------------------------
class TeamsConversationReference(Base):
    """Where to reach a Teams user, so Rakel can write first (e.g. "your case is solved").

    Updated from every validated activity. `user_id` is `teams:<Bot Framework from.id>`
    (the user's Rasa conversation id), `aad_object_id` is `teams:<Entra ID object id>`
    (their ticket requester id); bot/channels/teams_references.py sends the raw ids.
    """

    __tablename__ = "teams_conversation_references"

    id = Column(Integer, primary_key=True)
    user_id = Column(String(255), nullable=False, unique=True)
    aad_object_id = Column(String(64), nullable=True, index=True)
    tenant_id = Column(String(64), nullable=True)
    service_url = Column(String(512), nullable=False)
    conversation_id = Column(String(512), nullable=False)
    bot_id = Column(String(255), nullable=False)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


# --- requests from the person concerned (GDPR art. 15 and 17) -------------------
class PersonDataAudit(Base):
    """One export or deletion of a requester's data (bot/person_data.py).

    Kept apart from ticket_audit, whose rows are deleted with their ticket. Holds no
    personal data itself: the identity only as a SHA-256 digest (a repeated request
    can be matched to this one), the ticket numbers and row counts.
    """

    __tablename__ = "person_data_audit"

    id = Column(Integer, primary_key=True)
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    actor = Column(String(128), nullable=False)  # staff username, or the operator's login
    action = Column(String(32), nullable=False)  # exported | deleted
    identity_sha256 = Column(String(64), nullable=False, index=True)
    reason = Column(Text, nullable=True)
    tickets = Column(Text, nullable=True)  # "RAK-1001, RAK-1002"
    counts = Column(Text, nullable=False)  # JSON: rows per table


# --- outage notices (driftsmeldinger) ------------------------------------------
# Status codes are ASCII like the tickets'; "lost" is "løst". Only "aktiv" notices
# reach users; a passed expected end never changes the status (bot/notices.py).
NOTICE_STATUSES = ("planlagt", "aktiv", "lost")


class Notice(Base):
    """An outage or planned maintenance the service desk tells users about.

    `service` is a key of the catalogue's notice_services; `system_name` names the
    system when that service is a free-text one (a fagsystem). `municipalities` is a
    JSON list of the catalogue's municipality names (all of them for "alle").
    """

    __tablename__ = "notices"

    id = Column(Integer, primary_key=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    created_by = Column(String(128), nullable=False)
    title = Column(String(200), nullable=False)
    text = Column(Text, nullable=False)
    service = Column(String(32), nullable=False, index=True)
    system_name = Column(String(128), nullable=True)
    municipalities = Column(Text, nullable=False)
    starts_at = Column(DateTime(timezone=True), nullable=False)
    expected_end_at = Column(DateTime(timezone=True), nullable=True)
    status = Column(String(16), nullable=False, default="planlagt", index=True)
    resolved_at = Column(DateTime(timezone=True), nullable=True)


class NoticeAudit(Base):
    """One change to a notice: who, when, what field, from what to what."""

    __tablename__ = "notice_audit"

    id = Column(Integer, primary_key=True)
    notice_id = Column(
        Integer, ForeignKey("notices.id", ondelete="CASCADE"), nullable=False, index=True
    )
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    actor = Column(String(128), nullable=False)
    action = Column(String(32), nullable=False)  # created | changed | linked
    field = Column(String(64), nullable=True)
    old_value = Column(Text, nullable=True)
    new_value = Column(Text, nullable=True)


class NoticeTicket(Base):
    """A ticket reported during a notice, about its service; a ticket has at most one."""

    __tablename__ = "notice_tickets"

    id = Column(Integer, primary_key=True)
    notice_id = Column(
        Integer, ForeignKey("notices.id", ondelete="CASCADE"), nullable=False, index=True
    )
    ticket_id = Column(
        Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    linked_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class NoticeShown(Base):
    """A notice Rakel told in a conversation, for the statistics page.

    The conversation is kept only as the SHA-256 digest of its id: enough to count
    conversations and to match them to tickets, without another copy of who asked.
    """

    __tablename__ = "notice_shown"

    id = Column(Integer, primary_key=True)
    notice_id = Column(
        Integer, ForeignKey("notices.id", ondelete="CASCADE"), nullable=False, index=True
    )
    conversation_sha256 = Column(String(64), nullable=False, index=True)
    shown_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    # Rasa's id of the user message answered; a retried action call finds its row.
    message_id = Column(String(64), nullable=True)

    __table_args__ = (UniqueConstraint("notice_id", "message_id"),)


class UserMessage(Base):
    """A short message Rakel owes a requester about their ticket (bot/user_messages.py).

    A second transactional outbox, written in the transaction of the change it tells
    (a notice resolved, a ticket set to "venter på bruker" or "løst") and leased by the
    worker with the ITSM outbox's functions (bot/tickets/outbox.py). `via` is how it
    reaches the requester: "teams" (the worker sends it) or "widget" (it waits until the
    requester opens the widget). `payload` is the message text, masked.
    """

    __tablename__ = "user_messages"

    id = Column(Integer, primary_key=True)
    ticket_id = Column(
        Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True
    )
    notice_id = Column(
        Integer, ForeignKey("notices.id", ondelete="SET NULL"), nullable=True, index=True
    )
    kind = Column(String(32), nullable=False)  # notice_resolved | ticket_status
    recipient_id = Column(String(255), nullable=False, index=True)
    via = Column(String(16), nullable=False, index=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    idempotency_key = Column(String(64), nullable=False, unique=True)
    payload = Column(Text, nullable=False)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    delivered_at = Column(DateTime(timezone=True), nullable=True, index=True)
    last_error = Column(Text, nullable=True)


# --- content changes approved by staff (bot/content_changes.py) ------------------
# What a change does: a new example question for an article or another intent, new
# answer text or example list of an existing article, or a new article (a draft
# validated like an article file).
CONTENT_CHANGE_KINDS = ("example", "answer", "examples", "new_article")
# "approved" changes are read by training; export writes them to knowledge/.
# A later decision on the same message withdraws the earlier one.
CONTENT_CHANGE_STATUSES = ("approved", "withdrawn", "exported", "refused")


class ContentChange(Base):
    """One approved change to Rakel's content, kept in the database until exported.

    `base_sha256` is the SHA-256 of the file the change was based on (`path`,
    relative to the project), so an export can refuse a change whose file changed
    since. `after` is JSON: an example's text, the answer text, the example list,
    or the new article's fields.
    """

    __tablename__ = "content_changes"

    id = Column(Integer, primary_key=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    created_by = Column(String(128), nullable=False)
    kind = Column(String(32), nullable=False, index=True)
    # The intent trained: faq/<article id>, other_it or out_of_scope.
    intent = Column(String(128), nullable=False, index=True)
    article_id = Column(String(128), nullable=True, index=True)
    path = Column(String(255), nullable=True)
    base_sha256 = Column(String(64), nullable=True)
    before = Column(Text, nullable=True)
    after = Column(Text, nullable=False)
    status = Column(String(16), nullable=False, default="approved", index=True)
    miss_id = Column(
        Integer, ForeignKey("nlu_misses.id", ondelete="SET NULL"), nullable=True, index=True
    )
    # Why the export refused it (Norwegian, for the content page); None otherwise.
    note = Column(Text, nullable=True)


class ContentAudit(Base):
    """One staff decision on content or a missed message: who, when, before → after."""

    __tablename__ = "content_audit"

    id = Column(Integer, primary_key=True)
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    actor = Column(String(128), nullable=False)
    # approved | withdrawn | exported | refused (a change) | assigned | dismissed | flagged
    # (a missed message) | requested | trained | held_back | failed | activated |
    # rolled_back (a model, bot/trainer.py)
    action = Column(String(32), nullable=False)
    change_id = Column(
        Integer, ForeignKey("content_changes.id", ondelete="CASCADE"), nullable=True, index=True
    )
    miss_id = Column(
        Integer, ForeignKey("nlu_misses.id", ondelete="CASCADE"), nullable=True, index=True
    )
    model_id = Column(
        Integer, ForeignKey("model_versions.id", ondelete="CASCADE"), nullable=True, index=True
    )
    field = Column(String(64), nullable=True)
    old_value = Column(Text, nullable=True)
    new_value = Column(Text, nullable=True)


class ModelVersion(Base):
    """A trained model Rakel has run or may run, and how it came to be (bot/trainer.py).

    A row is requested by an admin ("Tren ny modell"), trained by the trainer from the
    files plus the approved content changes, evaluated against the live model it would
    replace, then activated or held back. A model trained from the files alone (what
    `bot.cli run rasa` starts with) gets a row once it is seen live, so every model
    that answered users is in the history and a rollback has a target.
    """

    __tablename__ = "model_versions"

    id = Column(Integer, primary_key=True)
    # The model file's stem ("rakel-<fingerprint>"); None until trained.
    name = Column(String(128), nullable=True, index=True)
    path = Column(String(1024), nullable=True)
    # files: trained from the repository's files at start | staff: requested on the page
    source = Column(String(16), nullable=False, default="staff")
    # full | finetune (from the live model; bot/trainer.py says when)
    kind = Column(String(16), nullable=True)
    # queued | training | evaluating | activating | held_back | failed | active | retired
    status = Column(String(16), nullable=False, default="queued", index=True)
    stage = Column(String(32), nullable=True)
    stage_at = Column(DateTime(timezone=True), nullable=True)
    requested_by = Column(String(128), nullable=True)
    requested_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    started_at = Column(DateTime(timezone=True), nullable=True)
    finished_at = Column(DateTime(timezone=True), nullable=True)
    training_seconds = Column(Float, nullable=True)
    # The fingerprint of the repository's files it was trained on (bot/train.py): a
    # restart keeps a staff-trained model only while the files are the same.
    base_fingerprint = Column(String(32), nullable=True)
    # JSON: the approved content changes it was trained with.
    change_ids = Column(Text, nullable=True)
    # JSON: its own evaluation figures (bot/model_evaluation.py).
    figures = Column(Text, nullable=True)
    # The live model it was compared with and, once active, the one it replaced (the
    # rollback target).
    compared_with_id = Column(
        Integer, ForeignKey("model_versions.id", ondelete="SET NULL"), nullable=True
    )
    # Why it was held back or failed (Norwegian, shown on the page).
    reason = Column(Text, nullable=True)
    activated_by = Column(String(128), nullable=True)
    activated_at = Column(DateTime(timezone=True), nullable=True)
