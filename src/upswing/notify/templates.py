"""The alert e-mail: subject, HTML (CSS inlined, since mail clients drop ``<style>``) and plain text.

Plain data in, three strings out; the alert domain formats times in the lead's zone and builds the URLs. What the
e-mail may say about contact is the contact guard's answer and nothing more: it lists only the channels the guard
allowed now, never an employer or a work address, and a signal that may not be acted on gets a statement saying
so instead of any contact suggestion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import css_inline
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

__all__ = ["AlertEmailContext", "GuardLine", "environment", "http_only", "render_alert_email"]

TEMPLATES = Path(__file__).parent / "templates"

# The contact guard's channels (compliance.rules.Channel), named for people.
_CHANNEL_LABELS = {"call": "Call", "sms": "SMS", "email": "E-mail", "letter": "Letter",
                   "social_dm": "Social direct message", "social_public": "Social public post"}
_PRIORITY_LABELS = {"urgent": "Urgent", "high": "High", "medium": "Medium", "low": "Low"}


@dataclass(frozen=True)
class GuardLine:
    """The contact guard's answer for one channel, now."""

    channel: str  # call, sms, email, letter …
    allowed: bool
    reasons: list[str] = field(default_factory=list)
    next_allowed_at: str | None = None  # formatted in the lead's zone: "2026-12-07 08:00 America/Chicago"

    @property
    def label(self) -> str:
        return _CHANNEL_LABELS.get(self.channel, self.channel.replace("_", " ").capitalize())

    @property
    def answer(self) -> str:
        """"allowed now", or "not now — reasons: outside_hours; next allowed …"."""
        if self.allowed:
            return "allowed now"
        answer = "not now"
        if self.reasons:
            answer += " — reasons: " + ", ".join(self.reasons)
        if self.next_allowed_at:
            answer += f"; next allowed {self.next_allowed_at}"
        return answer


@dataclass(frozen=True)
class AlertEmailContext:
    recipient_name: str | None
    priority: str  # urgent / high / medium / low
    headline: str  # "New job: Acme Health"
    lead_label: str  # display name + external id, chosen by the caller
    signal_type: str
    signal_title: str | None
    organization: str | None
    effective_date: str | None
    score: int
    evidence_url: str | None
    actionable: bool  # False: cease, bankruptcy, deceased, attorney or dispute: the signal may not be acted on
    guard: list[GuardLine]
    lead_url: str
    signal_count: int = 1  # several signals folded into one alert
    note: str | None = None

    @property
    def priority_label(self) -> str:
        return _PRIORITY_LABELS.get(self.priority, self.priority.capitalize())

    @property
    def allowed_channels(self) -> list[str]:
        """Labels of the channels the guard allows now: the only contact the e-mail ever suggests."""
        return [line.label for line in self.guard if line.allowed] if self.actionable else []


def render_alert_email(context: AlertEmailContext) -> tuple[str, str, str]:
    """(subject, html, text) for one alert e-mail."""
    templates = environment()
    values = {"c": context, "evidence_href": http_only(context.evidence_url),
              "lead_href": http_only(context.lead_url)}
    html = templates.get_template("alert_email.html.j2").render(values)
    text = templates.get_template("alert_email.txt.j2").render(values)
    # Never fetch a stylesheet from the network while rendering; everything the e-mail needs is in the template.
    inlined = css_inline.inline(html, load_remote_stylesheets=False)
    return _subject(context), inlined, text


def _subject(context: AlertEmailContext) -> str:
    tag = context.priority_label if context.actionable else "Not actionable"
    more = f" (+{context.signal_count - 1} more)" if context.signal_count > 1 else ""
    subject = f"[{tag}] {context.headline}{more} · {context.lead_label}"
    return " ".join(subject.split())  # a line break in a subject is a header injection


def http_only(url: str | None) -> str | None:
    """A link only to http(s): autoescaping does not stop ``javascript:`` in an ``href``."""
    if url and url.strip().lower().startswith(("https://", "http://")):
        return url.strip()
    return None


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        # HTML escaped; the text part is not HTML, so escaping it would show "&amp;" to the reader.
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=True, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
