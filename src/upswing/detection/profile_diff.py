"""Profile diff detector: two snapshots of one LinkedIn profile → candidate career events.

Pure and fast: no database, no clock (``observed_at`` is passed in), no regex compiled per call. Each
rule first compares raw fields (an unchanged or noise-only profile costs a few set look-ups) and only
then builds normalized keys; the string normalizers behind them are memoized, so repeated employer
names and titles cost a dict look-up.

Identities are built only from normalized content (employer, title, credential, issuer, school, degree),
never from list positions or the Actor that produced the snapshot, so the same real event seen in two
exports or through two Actors gets the same identity.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from upswing.core.names import company_key, name_key, title_key
from upswing.detection.events import CandidateEvent, SignalType
from upswing.detection.seniority import is_founder_title, seniority_level
from upswing.observation.snapshot import (
    Credential,
    Education,
    Experience,
    ProfileSnapshot,
    partial_date_to_date,
)

__all__ = [
    "diff_profiles",
    "is_founder_title",
    "seniority_level",
]

# Confidence levels.
CONFIDENCE_EXPLICIT = 0.95  # a new dated entry appeared between two snapshots
CONFIDENCE_UNDATED = 0.9  # a new entry without a date, or a title edited in place
CONFIDENCE_ENDED = 0.9  # the current position now shows an end date
CONFIDENCE_REMOVED = 0.8  # the current position disappeared from the profile
CONFIDENCE_INFERRED = 0.8  # first snapshot: inferred from dates alone
CONFIDENCE_OPEN_TO_WORK = 0.7  # only the open-to-work flag says so

# --------------------------------------------------------------------------------------------------
# Normalization (memoized)
# --------------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------------

_DASH = " \u2013 "  # en dash, as LinkedIn writes ranges
_MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@lru_cache(maxsize=4096)
def _first_day(value: str | None) -> date | None:
    return partial_date_to_date(value)


@lru_cache(maxsize=4096)
def _last_day(value: str | None) -> date | None:
    return partial_date_to_date(value, end_of_period=True)


def _show(value: str | None) -> str:
    """``"2026-03"`` → ``"Mar 2026"``; ``"2026"`` stays."""
    if not value:
        return "?"
    if len(value) == 7 and value[4] == "-" and value[5:].isdigit() and 1 <= int(value[5:]) <= 12:
        return f"{_MONTH_ABBR[int(value[5:]) - 1]} {value[:4]}"
    return value


def _range(start: str | None, end: str | None, current: bool) -> str:
    if start is None and end is None:
        return "present" if current else ""
    return f"{_show(start)}{_DASH}{'present' if current else _show(end)}"


def _paren(text: str) -> str:
    return f" ({text})" if text else ""


@dataclass(frozen=True, slots=True)
class _Window:
    today: date
    start: date
    previous: date | None
    #: The previous snapshot's look-back start (this one's without a previous snapshot): an item dated on or
    #: after it was never reported, since the previous snapshot did not list it yet.
    news_from: date

    def recent(self, value: str | None) -> bool:
        """A dated item within the lookback window and not in the future (first-snapshot rule)."""
        first, last = _first_day(value), _last_day(value)
        return first is not None and last is not None and first <= self.today and last >= self.start

    def stale(self, value: str | None) -> bool:
        """A known date entirely before the previous snapshot's look-back window."""
        last = _last_day(value)
        return last is not None and last < self.news_from


# --------------------------------------------------------------------------------------------------
# Prepared snapshots
# --------------------------------------------------------------------------------------------------


class _Pos:
    """One experience with its normalized keys (plain slots class: cheap to build)."""

    __slots__ = ("company", "company_url", "current", "end", "exp", "key", "start", "title")

    def __init__(self, exp: Experience) -> None:
        self.exp = exp
        self.company = company_key(exp.company)
        self.title = title_key(exp.title)
        self.company_url = _company_url_key(exp.company_linkedin_url)
        self.start = exp.start
        self.end = exp.end
        self.current = exp.current
        self.key = (self.company, self.title, self.start)


class _Cred:
    __slots__ = ("item", "key", "name")

    def __init__(self, item: Credential) -> None:
        self.item = item
        self.name = name_key(item.name)
        self.key = (self.name, company_key(item.issuer))


class _Edu:
    __slots__ = ("item", "key", "school")

    def __init__(self, item: Education) -> None:
        self.item = item
        self.school = company_key(item.school)
        self.key = (self.school, name_key(item.degree))


def _positions(experiences: Iterable[Experience]) -> list[_Pos]:
    return [_Pos(exp) for exp in experiences]


@lru_cache(maxsize=16384)
def _company_url_key(url: str | None) -> str:
    """``https://www.linkedin.com/company/acme-corp/`` → ``"acme-corp"``; anything else → ``""``."""
    if not url:
        return ""
    lowered = url.casefold()
    for marker in ("/company/", "/school/", "/showcase/"):
        index = lowered.find(marker)
        if index >= 0:
            rest = lowered[index + len(marker) :]
            slug = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
            return slug
    return ""


def _same_employer(position: _Pos, others: Iterable[_Pos]) -> list[_Pos]:
    return [
        other
        for other in others
        if (position.company and other.company == position.company)
        or (position.company_url and other.company_url == position.company_url)
    ]


def _sort_key(position: _Pos) -> tuple[str, str]:
    return (position.start or "", position.end or "9999")


def _end_key(position: _Pos) -> tuple[str, str]:
    return (position.end or "", position.start or "")


# LinkedIn's career-break types and the banners people list as a position (as title or employer): not jobs.
# The openings apply to titles only ("Seeking Alpha" is a company).
_NOT_A_JOB = frozenset(
    {
        "career break", "bereavement", "career transition", "caregiving", "full time parenting", "gap year",
        "health and well being", "layoff or position eliminated", "personal goal pursuit",
        "professional development", "relocation", "retirement", "travel", "voluntary work", "sabbatical",
        "parental leave", "maternity leave", "paternity leave", "unemployed", "self employed", "between jobs",
        "job seeker", "job seeking", "job search", "open to work", "open to opportunities",
    }
)  # fmt: skip
_NOT_A_JOB_OPENINGS = (
    "career break ", "open to work ", "looking for ", "seeking ", "actively looking ", "actively seeking ",
    "currently looking ", "currently seeking ", "in transition ", "available for ",
)  # fmt: skip


@lru_cache(maxsize=16384)
def _not_a_job_keys(title: str, company: str) -> bool:
    return title in _NOT_A_JOB or company in _NOT_A_JOB or (title + " ").startswith(_NOT_A_JOB_OPENINGS)


def _not_a_job(position: _Pos) -> bool:
    """A career break, open-to-work or self-employed entry listed as a position."""
    return _not_a_job_keys(position.title, position.company)


def _can_start_a_job(position: _Pos) -> bool:
    """Only an entry naming an employer and a start date says that someone took a job."""
    return bool(position.company) and position.start is not None and not _not_a_job(position)


def _holds_a_job(experiences: Iterable[Experience]) -> bool:
    """A current position that is not a career break (which means no job at all)."""
    return any(
        exp.current and not _not_a_job_keys(title_key(exp.title), company_key(exp.company)) for exp in experiences
    )


# --------------------------------------------------------------------------------------------------
# Event builders
# --------------------------------------------------------------------------------------------------


def _job_event(
    kind: SignalType,
    position: _Pos,
    confidence: float,
    *,
    effective: str | None,
    basis: str,
    previous_title: str | None = None,
    snippet: str | None = None,
) -> CandidateEvent:
    exp = position.exp
    where = f" at {exp.company}" if exp.company else ""
    if snippet is None:
        snippet = (
            f"Experience: {exp.title or 'position'}{where}{_paren(_range(exp.start, exp.end, exp.current))}"
        )
        if previous_title:
            snippet += f"; previously {previous_title}"
    details = {"basis": basis}
    if previous_title:
        details["previous_title"] = previous_title
    return CandidateEvent(
        type=kind,
        identity=f"{position.company}|{position.title}",
        confidence=confidence,
        snippet=snippet,
        title=exp.title,
        organization=exp.company,
        effective_date=_first_day(effective),
        details=details,
    )


def _credential_event(kind: SignalType, cred: _Cred, confidence: float, basis: str) -> CandidateEvent:
    item = cred.item
    label = "Certification" if kind is SignalType.CERTIFICATION else "Honor/award"
    issuer = f", issued by {item.issuer}" if item.issuer else ""
    return CandidateEvent(
        type=kind,
        identity=f"{cred.key[0]}|{cred.key[1]}",
        confidence=confidence,
        snippet=f"{label}: {item.name}{issuer}{_paren(_show(item.issued) if item.issued else '')}",
        title=item.name,
        organization=item.issuer,
        effective_date=_first_day(item.issued),
        details={"basis": basis},
    )


def _education_event(edu: _Edu, confidence: float, effective: str | None, basis: str) -> CandidateEvent:
    item = edu.item
    degree = ", ".join(part for part in (item.degree, item.field_of_study) if part) or "Studies"
    school = f" at {item.school}" if item.school else ""
    dates = _range(item.start, item.end, False) if (item.start or item.end) else ""
    return CandidateEvent(
        type=SignalType.EDUCATION,
        identity=f"{edu.key[0]}|{edu.key[1]}",
        confidence=confidence,
        snippet=f"Education: {degree}{school}{_paren(dates)}",
        title=item.degree or item.field_of_study,
        organization=item.school,
        effective_date=_first_day(effective),
        details={"basis": basis},
    )


def _job_loss_event(
    lost: _Pos | None, confidence: float, *, end: str | None, trigger: str, snippet: str, basis: str
) -> CandidateEvent:
    return CandidateEvent(
        type=SignalType.JOB_LOSS,
        identity=lost.company if lost is not None and lost.company else "unknown-employer",
        confidence=confidence,
        snippet=snippet,
        title=lost.exp.title if lost is not None else None,
        organization=lost.exp.company if lost is not None else None,
        effective_date=_first_day(end),
        details={"basis": basis, "trigger": trigger},
    )


def _describe(position: _Pos) -> str:
    exp = position.exp
    where = f" at {exp.company}" if exp.company else ""
    return f"{exp.title or 'position'}{where}"


# --------------------------------------------------------------------------------------------------
# First snapshot
# --------------------------------------------------------------------------------------------------


def _first_snapshot(current: ProfileSnapshot, window: _Window) -> list[CandidateEvent]:
    events: list[CandidateEvent] = []
    basis = "first_snapshot"
    experiences = current.experiences
    recent = [exp for exp in experiences if exp.current and window.recent(exp.start)]
    positions = _positions(experiences) if recent or not _holds_a_job(experiences) else []
    for position in positions:
        if not position.current or not window.recent(position.start) or not _can_start_a_job(position):
            continue
        start = _first_day(position.start)
        earlier = [
            other
            for other in _same_employer(position, positions)
            if other is not position
            and not other.current
            and other.end is not None
            and (other.start or "") <= (position.start or "")
        ]
        if earlier:
            latest = max(earlier, key=_sort_key)
            ended = _last_day(latest.end)
            # An internal move when the earlier role there ran until (about) the new start; a re-hire
            # after a gap is new employment.
            if ended is not None and start is not None and ended >= start - timedelta(days=62):
                if seniority_level(position.exp.title) > seniority_level(latest.exp.title):
                    events.append(
                        _job_event(
                            SignalType.PROMOTION,
                            position,
                            CONFIDENCE_INFERRED,
                            effective=position.start,
                            basis=basis,
                            previous_title=latest.exp.title,
                        )
                    )
                continue
        kind = (
            SignalType.BUSINESS_LAUNCH if is_founder_title(position.exp.title) else SignalType.NEW_EMPLOYMENT
        )
        events.append(_job_event(kind, position, CONFIDENCE_INFERRED, effective=position.start, basis=basis))

    for kind, items in (
        (SignalType.CERTIFICATION, current.certifications),
        (SignalType.AWARD, current.awards),
    ):
        for cred in items:
            if window.recent(cred.issued):
                events.append(_credential_event(kind, _Cred(cred), CONFIDENCE_INFERRED, basis))
    for edu in current.education:
        if window.recent(edu.end):
            events.append(_education_event(_Edu(edu), CONFIDENCE_INFERRED, edu.end, basis))

    finished = [p for p in positions if p.end is not None]
    if finished and not _holds_a_job(p.exp for p in positions):
        latest = max(finished, key=_end_key)
        if window.recent(latest.end):
            dates = _paren(_range(latest.start, latest.end, False))
            snippet = f"Experience ended: {_describe(latest)}{dates}; no current position"
            if current.open_to_work:
                snippet += "; open to work"
            events.append(
                _job_loss_event(
                    latest,
                    CONFIDENCE_INFERRED,
                    end=latest.end,
                    trigger="position_ended",
                    snippet=snippet,
                    basis=basis,
                )
            )
    return events


# --------------------------------------------------------------------------------------------------
# Later diffs
# --------------------------------------------------------------------------------------------------
#
# Each rule first asks a cheap question on the raw fields ("is every current position / credential /
# degree already in the previous snapshot, verbatim?"). Only when the answer is no are normalized keys
# built, so the common case (an unchanged or noise-only profile) costs a few set look-ups.


def _new_current_positions(previous: ProfileSnapshot, current: ProfileSnapshot) -> bool:
    seen = {(e.company, e.title, e.start) for e in previous.experiences}
    return any(e.current and (e.company, e.title, e.start) not in seen for e in current.experiences)


def _job_events(
    previous: ProfileSnapshot, current: ProfileSnapshot, window: _Window, events: list[CandidateEvent]
) -> None:
    if not _new_current_positions(previous, current):
        return
    prev_positions = _positions(previous.experiences)
    cur_positions = _positions(current.experiences)
    prev_current = [p for p in prev_positions if p.current]
    prev_keys = {p.key for p in prev_positions}
    prev_current_titles = {(p.company, p.title) for p in prev_current}
    cur_keys = {p.key for p in cur_positions}
    vanished = [p for p in prev_positions if p.key not in cur_keys]
    basis = "diff"
    for position in cur_positions:
        if not position.current or not _can_start_a_job(position):
            continue
        if position.key in prev_keys or (position.company, position.title) in prev_current_titles:
            continue
        same_entry = [v for v in vanished if v.start == position.start]
        # The employer was renamed on an otherwise unchanged entry (same title, same start).
        if position.start and any(v.current and v.title == position.title for v in same_entry):
            continue
        previous_there = _same_employer(position, prev_current)
        if previous_there:
            before = max(previous_there, key=lambda p: seniority_level(p.exp.title))
            if seniority_level(position.exp.title) <= seniority_level(before.exp.title):
                continue  # lateral move or a step down
            if _same_employer(position, same_entry):
                # The title was edited on the same entry: the promotion date is not on the profile.
                snippet = (
                    f"Experience: title at {position.exp.company or 'employer'} changed from "
                    f"{before.exp.title} to {position.exp.title}"
                    f"{_paren(_range(position.start, position.end, True))}"
                )
                events.append(
                    _job_event(
                        SignalType.PROMOTION,
                        position,
                        CONFIDENCE_UNDATED,
                        effective=None,
                        basis="title_edit",
                        previous_title=before.exp.title,
                        snippet=snippet,
                    )
                )
                continue
            if window.stale(position.start):
                continue
            confidence = CONFIDENCE_EXPLICIT if position.start else CONFIDENCE_UNDATED
            events.append(
                _job_event(
                    SignalType.PROMOTION,
                    position,
                    confidence,
                    effective=position.start,
                    basis=basis,
                    previous_title=before.exp.title,
                )
            )
            continue
        if window.stale(position.start):
            continue
        kind = (
            SignalType.BUSINESS_LAUNCH if is_founder_title(position.exp.title) else SignalType.NEW_EMPLOYMENT
        )
        confidence = CONFIDENCE_EXPLICIT if position.start else CONFIDENCE_UNDATED
        events.append(_job_event(kind, position, confidence, effective=position.start, basis=basis))


def _credential_events(
    kind: SignalType,
    previous_items: tuple[Credential, ...],
    current_items: tuple[Credential, ...],
    window: _Window,
    events: list[CandidateEvent],
) -> None:
    if not current_items:
        return
    seen = {(c.name, c.issuer) for c in previous_items}
    if all((c.name, c.issuer) in seen for c in current_items):
        return
    previous = [_Cred(c) for c in previous_items]
    current = [_Cred(c) for c in current_items]
    prev_keys = {c.key for c in previous}
    cur_keys = {c.key for c in current}
    # An entry whose issuer was edited (same name, same date) is not a new credential.
    edited = {(c.name, c.item.issued) for c in previous if c.key not in cur_keys}
    for cred in current:
        if cred.key in prev_keys or (cred.name, cred.item.issued) in edited:
            continue
        if window.stale(cred.item.issued):
            continue
        confidence = CONFIDENCE_EXPLICIT if cred.item.issued else CONFIDENCE_UNDATED
        events.append(_credential_event(kind, cred, confidence, "diff"))


def _education_events(
    previous_snapshot: ProfileSnapshot,
    current_snapshot: ProfileSnapshot,
    window: _Window,
    events: list[CandidateEvent],
) -> None:
    current_items = current_snapshot.education
    if not current_items:
        return
    seen = {(e.school, e.degree) for e in previous_snapshot.education}
    unseen = any((e.school, e.degree) not in seen for e in current_items)
    # Same entry: the end date, in the future when last observed, has now been reached.
    reached = window.previous is not None and any(
        (day := _first_day(e.end)) is not None and window.previous < day <= window.today
        for e in current_items
    )
    ends_moved = {(e.school, e.degree, e.end) for e in previous_snapshot.education} != {
        (e.school, e.degree, e.end) for e in current_items
    }
    if not unseen and not reached and not ends_moved:
        return
    previous = [_Edu(e) for e in previous_snapshot.education]
    prev_keys = {e.key for e in previous}
    prev_end_day = {e.key: _first_day(e.item.end) for e in previous}
    cur_keys = {_Edu(e).key for e in current_items}
    edited = {(e.school, e.item.start, e.item.end) for e in previous if e.key not in cur_keys}
    for item in current_items:
        edu = _Edu(item)
        if edu.key not in prev_keys:
            if (edu.school, item.start, item.end) in edited and (item.start or item.end):
                continue  # the degree text was edited on the same entry
            known = item.end or item.start
            if window.stale(known):
                continue
            end_day = _first_day(item.end)
            effective = (
                item.end if end_day is not None and end_day <= window.today else (item.start or item.end)
            )
            confidence = CONFIDENCE_EXPLICIT if known else CONFIDENCE_UNDATED
            events.append(_education_event(edu, confidence, effective, "diff"))
            continue
        end_day = _first_day(item.end)
        if window.previous is None or end_day is None or end_day > window.today or window.stale(item.end):
            continue
        before = prev_end_day.get(edu.key)
        # Still open when last seen: no end yet, or an end still ahead (a "2028" that became "Sep 2026"
        # is a degree finished early), or an end that fell between the two observations.
        was_open = before is None or before > window.previous or end_day > window.previous
        if was_open:
            events.append(_education_event(edu, CONFIDENCE_INFERRED, item.end, "end_date_reached"))


def _job_loss(
    previous: ProfileSnapshot, current: ProfileSnapshot, window: _Window, events: list[CandidateEvent]
) -> None:
    if _holds_a_job(current.experiences):
        return
    # An item with no experience at all (private profile, partial scrape) is no evidence of a lost job.
    position_lost = bool(current.experiences) and _holds_a_job(previous.experiences)
    open_to_work = current.open_to_work is True and previous.open_to_work is not True
    if not position_lost and not open_to_work:
        return
    cur_positions = _positions(current.experiences)
    if position_lost:
        lost = max((p for p in _positions(previous.experiences) if p.current and not _not_a_job(p)), key=_sort_key)
        now = next((p for p in cur_positions if p.key == lost.key), None)
        end = now.end if now is not None else None
        if end is not None and window.stale(end):
            return  # the job ended long ago and was only now marked as ended
        if now is not None and end is not None:
            confidence = CONFIDENCE_ENDED
            snippet = f"Experience ended: {_describe(lost)}{_paren(_range(lost.start, end, False))}"
        else:
            confidence = CONFIDENCE_REMOVED
            snippet = f"Experience removed: {_describe(lost)}{_paren(_range(lost.start, None, True))}"
        snippet += "; no current position"
        trigger = "position_ended"
        if open_to_work:
            snippet += "; open to work switched on"
            trigger = "position_ended+open_to_work"
        events.append(
            _job_loss_event(lost, confidence, end=end, trigger=trigger, snippet=snippet, basis="diff")
        )
        return
    ended = [p for p in cur_positions if p.end is not None] or cur_positions
    latest = max(ended, key=_end_key) if ended else None
    if latest is not None:
        snippet = (
            f"Open to work switched on; no current position (last: {_describe(latest)}"
            f"{', ended ' + _show(latest.end) if latest.end else ''})"
        )
    else:
        snippet = "Open to work switched on; no position listed"
    events.append(
        _job_loss_event(
            latest,
            CONFIDENCE_OPEN_TO_WORK,
            end=latest.end if latest is not None else None,
            trigger="open_to_work",
            snippet=snippet,
            basis="diff",
        )
    )


def diff_profiles(
    previous: ProfileSnapshot | None,
    current: ProfileSnapshot,
    *,
    observed_at: datetime,
    previous_observed_at: datetime | None = None,
    lookback_days: int = 90,
) -> list[CandidateEvent]:
    """Candidate events between two snapshots of one profile (``previous`` None: first observation).

    * ``new_employment`` / ``business_launch``: a new current position at an employer that was not a
      current employer before (founder/owner titles give ``business_launch``).
    * ``promotion``: a new current title at a current employer, strictly higher on the seniority ladder
      (as a new entry, or the same entry with its title edited).
    * ``certification`` / ``award``: a new credential; ``education``: a new degree, or a degree whose end
      date was still ahead at ``previous_observed_at`` and has been reached at ``observed_at``.
    * ``job_loss``: the last current position ended (or vanished), or the open-to-work flag switched on
      with no current position; both give the same identity (the employer).

    Items dated before the previous snapshot's look-back window are stale and give nothing (one dated within
    it is news: the previous snapshot did not list it yet). With no previous snapshot, only items dated within
    the window count (undated items give nothing). A current position without an employer or a start date, or
    a career break / open-to-work entry, never gives a new job or a promotion.
    """
    today = observed_at.date()
    lookback = timedelta(days=lookback_days)
    previous_day = previous_observed_at.date() if previous_observed_at is not None else None
    window = _Window(
        today=today,
        start=today - lookback,
        previous=previous_day,
        news_from=min(today, previous_day) - lookback if previous_day is not None else today - lookback,
    )
    if previous is None:
        return _first_snapshot(current, window)
    events: list[CandidateEvent] = []
    _job_events(previous, current, window, events)
    _credential_events(
        SignalType.CERTIFICATION, previous.certifications, current.certifications, window, events
    )
    _credential_events(SignalType.AWARD, previous.awards, current.awards, window, events)
    _education_events(previous, current, window, events)
    _job_loss(previous, current, window, events)
    return events
