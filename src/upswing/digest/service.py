"""The daily digest: who is due, composing and rendering it, and handing it to the e-mail sender as a durable
delivery (docs/digest.md).

The scheduler (``digest.run``, every minute) finds the users whose local send time has passed today and who have
no digest for that local date. Each digest is composed, rendered and recorded in one transaction together with
its e-mail delivery, which carries the rendered message; a unique key on (user, local date) makes a second run —
or a second scheduler — record nothing. The ``alerts.send`` task sends the delivery with the delivery's id as its
Message-ID, so a send repeated after a crash is the same message with the same id. Services never commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from upswing.account.models import Role, User
from upswing.alert import service as alerts
from upswing.alert.models import AlertChannel, AlertDelivery, DeliveryStatus
from upswing.core import tasks
from upswing.core.db import session_factory, utcnow
from upswing.core.errors import ConflictError, NotFoundError, PermissionDeniedError
from upswing.core.logging import get_logger
from upswing.digest import content as digest_content
from upswing.digest import preferences as prefs
from upswing.digest import unsubscribe
from upswing.digest.models import Digest, DigestFormat, DigestStatus, Frequency
from upswing.digest.schemas import DigestRead, Preferences
from upswing.notify import suppressions
from upswing.notify.digest_email import render_digest_email
from upswing.settings import Settings, get_settings

log = get_logger(__name__)

#: The oldest news a digest reports (a weekly digest, or one after a long pause).
MAX_PERIOD = timedelta(days=8)


@dataclass(frozen=True)
class Due:
    user_id: uuid.UUID
    local_date: date
    since: datetime


@dataclass
class RunReport:
    queued: int = 0
    empty: int = 0
    suppressed: int = 0
    skipped: int = 0  # made meanwhile by another run
    failed: int = 0
    digest_ids: list[uuid.UUID] = field(default_factory=list)


# --------------------------------------------------------------------------------------------------
# Who is due
# --------------------------------------------------------------------------------------------------


def due_date(preferences: Preferences, now: datetime) -> date | None:
    """The user's local date if their digest for it is due at ``now`` (its local send time has passed)."""
    if preferences.frequency is Frequency.OFF:
        return None
    zone = ZoneInfo(preferences.timezone)
    day = now.astimezone(zone).date()
    if preferences.frequency is Frequency.WEEKDAYS and day.weekday() >= 5:
        return None
    if preferences.frequency is Frequency.WEEKLY and day.weekday() != preferences.weekly_day:
        return None
    # A send time that a DST change skips (02:30 on the spring-forward night) resolves to the moment after it.
    send_at = datetime.combine(day, prefs.send_moment(preferences), tzinfo=zone)
    return day if now >= send_at else None


def _last_ends(session: Session, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, datetime]:
    if not user_ids:
        return {}
    return dict(session.execute(select(Digest.user_id, func.max(Digest.period_end))
                                .where(Digest.user_id.in_(user_ids)).group_by(Digest.user_id)).all())


def period_start(last_end: datetime | None, now: datetime, settings: Settings) -> datetime:
    """News since the last digest; a first digest covers ``digest_first_lookback_days``."""
    if last_end is None:
        return now - timedelta(days=settings.digest_first_lookback_days)
    return max(last_end, now - MAX_PERIOD)


def due_users(session: Session, now: datetime, settings: Settings) -> list[Due]:
    users = list(session.scalars(select(User).where(User.is_active.is_(True), User.email.is_not(None))
                                 .order_by(User.username)))
    preferences = prefs.for_users(session, users, settings)
    candidates = [(user, day) for user in users if (day := due_date(preferences[user.id], now)) is not None]
    if not candidates:
        return []
    ids = [user.id for user, _ in candidates]
    made = set(session.execute(select(Digest.user_id, Digest.local_date).where(
        Digest.user_id.in_(ids), Digest.local_date.in_({day for _, day in candidates}),
        Digest.forced.is_(False))).all())
    last = _last_ends(session, ids)
    return [Due(user.id, day, period_start(last.get(user.id), now, settings)) for user, day in candidates
            if (user.id, day) not in made]


# --------------------------------------------------------------------------------------------------
# Composing and recording
# --------------------------------------------------------------------------------------------------


def compose(session: Session, user: User, preferences: Preferences, *, local_date: date, since: datetime,
            now: datetime, settings: Settings) -> digest_content.DigestContent:
    return digest_content.gather(session, user, preferences, since=since, now=now, local_date=local_date,
                                 settings=settings, unsubscribe_url=unsubscribe.unsubscribe_url(user.id, settings))


def render(composed: digest_content.DigestContent, preferences: Preferences) -> tuple[str, str | None, str]:
    return render_digest_email(composed.context, with_html=preferences.format is DigestFormat.HTML)


def record(session: Session, user: User, preferences: Preferences, *, local_date: date, since: datetime,
           now: datetime, settings: Settings, forced: bool = False) -> Digest:
    """Compose, render and record the user's digest and its e-mail delivery (in the caller's transaction). A
    digest for this user and local date already recorded makes the flush fail (unless ``forced``)."""
    composed = compose(session, user, preferences, local_date=local_date, since=since, now=now, settings=settings)
    digest = Digest(id=uuid.uuid4(), user_id=user.id, local_date=local_date, timezone=preferences.timezone,
                    forced=forced, period_start=since, period_end=now, counts=dict(composed.counts),
                    signal_ids=composed.signal_ids, created_at=now)
    subject, html, text = render(composed, preferences)
    digest.subject = subject[:300]
    address = (user.email or "").strip().lower()
    stopped = suppressions.active_for(session, [address]).get(address) if address else None
    if composed.is_empty and not preferences.send_empty:
        digest.status = DigestStatus.EMPTY.value
    elif not address:
        digest.status, digest.counts["reason"] = DigestStatus.SUPPRESSED.value, "no e-mail address"
    elif stopped is not None:
        digest.status = DigestStatus.SUPPRESSED.value
        digest.counts["reason"] = f"address suppressed: {stopped.reason} at {stopped.event_at.isoformat()}"
    else:
        delivery = AlertDelivery(
            id=uuid.uuid4(), channel=AlertChannel.EMAIL.value, user_id=user.id, event_type="digest",
            content={"subject": subject, "html": html, "text": text,
                     "headers": unsubscribe.list_unsubscribe_headers(user.id, settings), "tags": ["digest"]},
            status=DeliveryStatus.PENDING.value, run_after=now, created_at=now, attempts=0)
        session.add(delivery)
        session.flush()  # the digest refers to it
        digest.delivery_id, digest.status = delivery.id, DigestStatus.QUEUED.value
        tasks.enqueue(session, alerts.SEND_TASK, key=f"{alerts.SEND_TASK}:{delivery.id}", max_attempts=1)
    session.add(digest)
    session.flush()
    return digest


def _count(report: RunReport, digest: Digest) -> None:
    report.digest_ids.append(digest.id)
    if digest.status == DigestStatus.QUEUED.value:
        report.queued += 1
    elif digest.status == DigestStatus.EMPTY.value:
        report.empty += 1
    else:
        report.suppressed += 1


def run(factory: sessionmaker[Session] | None = None, *, now: datetime | None = None,
        settings: Settings | None = None) -> RunReport:
    """Record every digest due now, each in its own transaction (one user's failure holds up nobody else)."""
    factory = factory or session_factory()
    settings = settings or get_settings()
    now = now or utcnow()
    report = RunReport()
    with factory() as session:
        due = due_users(session, now, settings)
    for entry in due:
        try:
            with factory() as session, session.begin():
                user = session.get(User, entry.user_id)
                if user is None or not user.is_active:
                    continue
                preferences = prefs.effective(session, user, settings)
                digest = record(session, user, preferences, local_date=entry.local_date, since=entry.since, now=now,
                                settings=settings)
                _count(report, digest)
        except IntegrityError:
            report.skipped += 1  # another scheduler recorded it first: one per user per local date
        except Exception:
            # Logged loudly and retried on the next run (nothing was recorded for this user).
            report.failed += 1
            log.exception("digest.failed", user_id=str(entry.user_id), local_date=entry.local_date.isoformat())
    return report


# --------------------------------------------------------------------------------------------------
# Preview, send now, history
# --------------------------------------------------------------------------------------------------


def user_named(session: Session, given: str | None) -> uuid.UUID | None:
    """A user id from a username or an id (None: not given)."""
    if given is None or not given.strip():
        return None
    try:
        condition = User.id == uuid.UUID(given.strip())
    except ValueError:
        condition = User.username == given.strip()
    found = session.scalar(select(User.id).where(condition))
    if found is None:
        raise NotFoundError(f"user: no user {given!r}")
    return found


def _target(session: Session, actor: User | None, user_id: uuid.UUID | None) -> User:
    """Whose digest: your own; a manager their team's members; an admin (or the CLI operator) anyone's."""
    if user_id is None:
        if actor is None:
            raise NotFoundError("name the user whose digest this is")
        return actor
    target = session.get(User, user_id)
    if target is None:
        raise NotFoundError(f"user {user_id} not found")
    if actor is None or actor.id == target.id or actor.role == Role.ADMIN.value:
        return target
    if actor.role == Role.MANAGER.value and actor.team_id is not None and target.team_id == actor.team_id:
        return target
    raise PermissionDeniedError("you may see only your own digest (managers: their team's)")


def preview(session: Session, actor: User | None, *, user_id: uuid.UUID | None = None,
            local_date: date | None = None, fmt: str = "html", now: datetime | None = None,
            settings: Settings | None = None) -> tuple[str, str]:
    """(subject, body) of the digest as it would be sent (for ``local_date``: as of that day's send time);
    nothing is recorded or sent."""
    settings = settings or get_settings()
    user = _target(session, actor, user_id)
    preferences = prefs.effective(session, user, settings)
    now = now or utcnow()
    zone = ZoneInfo(preferences.timezone)
    if local_date is not None:
        moment = datetime.combine(local_date, prefs.send_moment(preferences), tzinfo=zone)
        now = min(now, moment)
    day = now.astimezone(zone).date()
    last = session.scalar(select(func.max(Digest.period_end)).where(Digest.user_id == user.id,
                                                                    Digest.period_end < now))
    composed = compose(session, user, preferences, local_date=day, since=period_start(last, now, settings), now=now,
                       settings=settings)
    subject, html, text = render_digest_email(composed.context, with_html=fmt == "html")
    return subject, html if fmt == "html" and html is not None else text


def send_now(session: Session, actor: User | None, *, user_id: uuid.UUID | None = None, force: bool = False,
             now: datetime | None = None, settings: Settings | None = None) -> Digest:
    """Record today's digest for the user now (whatever the time); a second one today only with ``force``."""
    settings = settings or get_settings()
    user = _target(session, actor, user_id)
    if actor is not None and actor.id != user.id and actor.role != Role.ADMIN.value:
        raise PermissionDeniedError("only admins send another user's digest")
    preferences = prefs.effective(session, user, settings)
    now = now or utcnow()
    day = now.astimezone(ZoneInfo(preferences.timezone)).date()
    made = session.scalar(select(Digest).where(Digest.user_id == user.id, Digest.local_date == day,
                                               Digest.forced.is_(False)))
    if made is not None and not force:
        raise ConflictError(f"{user.username}'s digest for {day.isoformat()} was made already "
                            f"({made.status}); force sends another")
    since = period_start(_last_ends(session, [user.id]).get(user.id), now, settings)
    digest = record(session, user, preferences, local_date=day, since=since, now=now, settings=settings,
                    forced=made is not None)
    if digest.status == DigestStatus.EMPTY.value and force:
        # Asked for explicitly: an empty digest is sent all the same.
        session.delete(digest)
        session.flush()
        digest = record(session, user, preferences.model_copy(update={"send_empty": True}), local_date=day,
                        since=since, now=now, settings=settings, forced=made is not None)
    return digest


def read(session: Session, digests: Sequence[Digest]) -> list[DigestRead]:
    """The digests with their e-mail's state (sent, failed, still queued)."""
    ids = [digest.delivery_id for digest in digests if digest.delivery_id is not None]
    deliveries = {d.id: d for d in session.scalars(select(AlertDelivery).where(AlertDelivery.id.in_(ids)))} \
        if ids else {}
    out = []
    for digest in digests:
        delivery = deliveries.get(digest.delivery_id) if digest.delivery_id else None
        status, error, sent_at = digest.status, digest.counts.get("reason"), None
        if delivery is not None:
            status = {DeliveryStatus.SENT.value: DigestStatus.SENT.value,
                      DeliveryStatus.FAILED.value: DigestStatus.FAILED.value}.get(delivery.status, status)
            error, sent_at = delivery.last_error, delivery.sent_at
        out.append(DigestRead.model_validate({
            **{name: getattr(digest, name) for name in ("id", "user_id", "local_date", "timezone", "forced",
                                                        "period_start", "period_end", "subject", "counts",
                                                        "delivery_id", "created_at")},
            "status": status, "error": error, "sent_at": sent_at}))
    return out


def list_digests(session: Session, actor: User | None, *, user_id: uuid.UUID | None = None,
                 limit: int = 50) -> list[DigestRead]:
    query = select(Digest).order_by(Digest.created_at.desc(), Digest.id.desc()).limit(limit)
    if user_id is not None or actor is not None:
        query = query.where(Digest.user_id == _target(session, actor, user_id).id)
    return read(session, list(session.scalars(query)))
