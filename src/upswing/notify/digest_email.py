"""The digest e-mail: subject, HTML (tables and inlined CSS, which Outlook and Gmail both render) and plain text.

Plain data in, three strings out. The digest domain gathers the signals, asks the contact guard and formats every
date and time; this module only lays them out. Links are made only to http(s) URLs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import css_inline

from upswing.notify.templates import environment, http_only

__all__ = ["AgentLoad", "AttentionLine", "DigestEmailContext", "DigestGroup", "DigestItem", "ManagerSection",
           "digest_subject", "render_digest_email"]

PRIORITY_LABELS = {"urgent": "Urgent", "high": "High", "medium": "Medium", "low": "Low"}


@dataclass(frozen=True)
class DigestItem:
    """One signal as the digest lists it."""

    lead_name: str
    lead_external_id: str
    signal_label: str  # "New job"
    title: str | None
    organization: str | None
    event_date: str | None  # "Mon 30 Nov 2026"
    score: int
    priority: str
    factors: tuple[str, ...]  # "event strength +42", "recent +9"
    evidence_url: str | None
    snippet: str | None
    guard: str  # the contact guard's answer today: "call after 8:00 am CT", "do not contact: cease"
    contactable: bool  # False: the guard's answer is a refusal (shown in red)
    link: str  # deep link into the dashboard
    owner: str | None = None  # "yours", "unassigned", "agent.chen"
    status: str | None = None  # shown when not new ("acknowledged")
    detected: str | None = None  # "Mon 7 Dec"
    signal_id: str | None = None

    @property
    def headline(self) -> str:
        what = " at ".join(part for part in (self.title, self.organization) if part)
        return f"{self.signal_label}: {what}" if what else self.signal_label

    @property
    def who(self) -> str:
        """"Jordan Rivera · L-1001 · yours · acknowledged"."""
        return " · ".join(part for part in (self.lead_name, self.lead_external_id, self.owner, self.status) if part)

    @property
    def facts(self) -> str:
        """"Event Tue 1 Dec · Score 88 (event +53, recent +22) · detected Mon 7 Dec"."""
        score = f"Score {self.score}" + (f" ({', '.join(self.factors)})" if self.factors else "")
        parts = [f"Event {self.event_date}" if self.event_date else None, score,
                 f"detected {self.detected}" if self.detected else None]
        return " · ".join(part for part in parts if part)

    @property
    def evidence_href(self) -> str | None:
        return http_only(self.evidence_url)

    @property
    def href(self) -> str | None:
        return http_only(self.link)


@dataclass(frozen=True)
class DigestGroup:
    priority: str
    items: tuple[DigestItem, ...]
    total: int  # in the period, of which ``items`` are the first (highest score)

    @property
    def label(self) -> str:
        return PRIORITY_LABELS.get(self.priority, self.priority.capitalize())

    @property
    def more(self) -> int:
        return self.total - len(self.items)


@dataclass(frozen=True)
class AttentionLine:
    """An escalation: a signal nobody acknowledged in time."""

    item: DigestItem
    level: int
    escalated: str  # "Mon 7 Dec 11:00 am ET"
    assignee: str | None
    still_open: bool


@dataclass(frozen=True)
class AgentLoad:
    name: str
    new: int  # not acknowledged yet
    in_progress: int  # acknowledged or actioned, no outcome yet
    median_day: str  # median time to first action over the past day ("1 h 20 min", "–")
    median_week: str


@dataclass(frozen=True)
class ManagerSection:
    scope: str  # "Team North", "all teams"
    unassigned: tuple[DigestItem, ...]
    unassigned_total: int
    agents: tuple[AgentLoad, ...]
    median_day: str
    median_week: str
    link: str

    @property
    def unassigned_more(self) -> int:
        return self.unassigned_total - len(self.unassigned)


@dataclass(frozen=True)
class DigestEmailContext:
    recipient_name: str | None
    date_label: str  # "Tue 8 Dec"
    period_label: str  # "since Mon 7 Dec 7:30 am"
    groups: tuple[DigestGroup, ...]  # urgent → low; empty groups left out
    still_open: tuple[DigestItem, ...]
    still_open_total: int
    attention: tuple[AttentionLine, ...]
    manager: ManagerSection | None
    dashboard_url: str
    preferences_url: str
    unsubscribe_url: str | None
    links_note: str | None = None  # e.g. "Signals listed per section: 25 at most"
    extra_notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def new_total(self) -> int:
        return sum(group.total for group in self.groups)

    @property
    def still_open_more(self) -> int:
        return self.still_open_total - len(self.still_open)

    @property
    def is_empty(self) -> bool:
        """Nothing to say: no new signal, nothing still open, nothing escalated, no team figures."""
        return not (self.groups or self.still_open_total or self.attention or self.manager)


def digest_subject(context: DigestEmailContext) -> str:
    """"3 urgent, 5 high — Upswing digest for Tue 8 Dec"; without new signals, what is waiting instead."""
    counts = [f"{group.total} {group.priority}" for group in context.groups if group.total]
    if not counts:
        counts = ["No new signals"]
        if context.attention:
            counts.append(f"{len(context.attention)} need attention")
        if context.still_open_total:
            counts.append(f"{context.still_open_total} still open")
    subject = f"{', '.join(counts)} — Upswing digest for {context.date_label}"
    return " ".join(subject.split())  # a line break in a subject is a header injection


def render_digest_email(context: DigestEmailContext, *, with_html: bool = True) -> tuple[str, str | None, str]:
    """(subject, html or None, text)."""
    templates = environment()
    values = {"c": context, "dashboard_href": http_only(context.dashboard_url),
              "preferences_href": http_only(context.preferences_url),
              "unsubscribe_href": http_only(context.unsubscribe_url)}
    text = templates.get_template("digest_email.txt.j2").render(values)
    page = None
    if with_html:
        # Never fetch a stylesheet while rendering; the template carries all its CSS.
        page = css_inline.inline(templates.get_template("digest_email.html.j2").render(values),
                                 load_remote_stylesheets=False)
    return digest_subject(context), page, text
