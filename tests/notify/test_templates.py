"""The alert e-mail: inlined CSS, escaped data, the contact guard's answer per channel, contact suggested only on
the channels the guard allows, and none at all for a signal that may not be acted on."""

from __future__ import annotations

import html as html_module
import re
from dataclasses import replace

from upswing.notify.templates import AlertEmailContext, GuardLine, render_alert_email

OUTSIDE_HOURS = GuardLine("call", False, ["outside_hours"], "2026-12-07 08:00 America/Chicago")
SMS_OK = GuardLine("sms", True, [], None)
EMAIL_OK = GuardLine("email", True, [], None)

CONTEXT = AlertEmailContext(
    recipient_name="Dana", priority="urgent", headline="New job: Acme Health", lead_label="Jane Doe (L-1042)",
    signal_type="job_change", signal_title="Nurse manager", organization="Acme Health", effective_date="2026-11-30",
    score=91, evidence_url="https://www.linkedin.com/in/jane-doe", actionable=True,
    guard=[OUTSIDE_HOURS, SMS_OK, EMAIL_OK], lead_url="http://127.0.0.1:8000/leads/5b1e", signal_count=1, note=None)


def visible(page: str) -> str:
    """What a reader sees: tags dropped, entities decoded, whitespace collapsed."""
    return " ".join(html_module.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def flat(text: str) -> str:
    return " ".join(text.split())


def test_styles_are_inlined_for_mail_clients() -> None:
    _, page, _ = render_alert_email(CONTEXT)
    assert "<style" not in page and "class=\"badge" in page
    assert re.search(r'<span class="badge badge-urgent" style="[^"]*background: #c81e1e', page)
    assert re.search(r'<a class="button" href="http://127.0.0.1:8000/leads/5b1e" style="[^"]+"', page)


def test_subject_headline_and_facts() -> None:
    subject, page, text = render_alert_email(replace(CONTEXT, signal_count=3))
    assert subject == "[Urgent] New job: Acme Health (+2 more) · Jane Doe (L-1042)"
    for body in (visible(page), flat(text)):
        assert "Hi Dana," in body
        for fact in ("New job: Acme Health", "Jane Doe (L-1042)", "job_change: Nurse manager", "Acme Health",
                     "2026-11-30", "91 (Urgent)", "3 signals on this lead"):
            assert fact in body
    assert "https://www.linkedin.com/in/jane-doe" in page and "Evidence: https://www.linkedin.com/in/jane-doe" in text
    assert "\nScore: 91 (Urgent)\nSignals: 3 signals on this lead in this alert\n" in text  # one fact a line
    assert render_alert_email(replace(CONTEXT, recipient_name=None))[2].startswith("Hello,\n")


def test_hostile_data_is_escaped_and_only_http_links_are_made() -> None:
    hostile = replace(CONTEXT, organization='<script>alert("x")</script>', note="<img src=x onerror=alert(1)>",
                      evidence_url="javascript:alert(1)", headline="New job:\r\nBcc: everyone@example.com")
    subject, page, text = render_alert_email(hostile)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "<img" not in page and "&lt;img src=x" in page
    assert "javascript:" not in page and "javascript:" not in text and "View the evidence" not in page
    assert "\r" not in subject and "\n" not in subject  # no header injection through the subject
    assert '<script>alert("x")</script>' in text  # the text part is shown as text, never as HTML


def test_every_channel_shows_the_guards_answer_and_only_allowed_ones_are_suggested() -> None:
    _, page, text = render_alert_email(CONTEXT)
    for body in (visible(page), flat(text)):
        assert ("Call: not now — reasons: outside_hours; next allowed 2026-12-07 08:00 America/Chicago" in body)
        assert "SMS: allowed now" in body and "E-mail: allowed now" in body
        suggestion = re.search(r"You may contact the borrower now by: ([^.]*)\.", body)
        assert suggestion is not None and suggestion.group(1) == "SMS, E-mail"  # never Call: not allowed now
        assert "never reach the borrower through an employer or a work address" in body


def test_a_new_job_never_suggests_the_employer() -> None:
    """The employer appears as a fact; the only suggestion names the guard's open channels."""
    _, page, text = render_alert_email(CONTEXT)
    for body in (visible(page), flat(text)):
        suggestions = re.findall(r"You may contact[^.]*\.", body)
        assert suggestions and all("Acme" not in s and "work" not in s for s in suggestions)


def test_no_open_channel_means_no_suggestion_to_contact() -> None:
    closed = replace(CONTEXT, guard=[OUTSIDE_HOURS, GuardLine("sms", False, ["frequency_cap"], None)])
    _, page, text = render_alert_email(closed)
    for body in (visible(page), flat(text)):
        assert "You may contact" not in body and "allowed now" not in body
        assert "SMS: not now — reasons: frequency_cap" in body and "No channel is open now" in body


def test_a_signal_that_may_not_be_acted_on_says_so_and_suggests_nothing() -> None:
    blocked = replace(CONTEXT, actionable=False, note="The borrower asked us to cease contact on 2026-10-02.")
    subject, page, text = render_alert_email(blocked)
    assert subject.startswith("[Not actionable] New job: Acme Health")
    for body in (visible(page), flat(text).lower()):
        assert "may not be acted on" in body.lower() and "do not reach out about it" in body.lower()
        assert "allowed now" not in body and "you may contact" not in body.lower()
        assert "contact guard" not in body.lower() and "next allowed" not in body
    assert "The borrower asked us to cease contact on 2026-10-02." in visible(page)
    assert "Urgent" not in visible(page)  # no urgency for something nobody may act on
