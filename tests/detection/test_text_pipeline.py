"""The text pipeline: sentiment, analysis of a batch, candidate events (classifier stand-in for the wiring;
the contract tests run the shipped model)."""

from __future__ import annotations

from datetime import date

import pytest

from factories import make_keyword_classifier
from upswing.detection.events import SignalType
from upswing.detection.sentiment import sentiment, sentiment_label
from upswing.detection.text import analyze_texts, label_for_signal_type, snippet_of, to_candidate_events

RULES = {"laid off": "job_loss", "promoted": "promotion", "joined": "new_employment", "passed": "certification",
         "founded": "business_launch", "expanding": "expansion", "missed": "financial_distress"}
REFERENCE = date(2025, 1, 8)


@pytest.mark.parametrize("text", [
    "I got laid off today.",
    "I was laid off after 7 years. Grateful for the journey and excited for what comes next!",
    "Laid off this morning, but honestly I'm at peace 🙂",
    "Unfortunately my position was eliminated last week.",
    "Open to work: looking for data analyst roles in Austin.",
    "After the restructuring I was let go along with half of my team.",
])
def test_bad_news_is_negative_however_it_is_framed(text: str) -> None:
    assert sentiment_label(text) == "negative"


@pytest.mark.parametrize("text", [
    "I was promoted to Senior Engineer!",
    "Thrilled to announce that I joined Stripe.",
    "I passed the CISSP exam yesterday.",
])
def test_good_news_is_positive(text: str) -> None:
    assert sentiment_label(text) == "positive"


def test_plain_statements_are_neutral() -> None:
    result = sentiment("The meeting is on Tuesday at the main office.")
    assert result.label == "neutral"
    assert -1.0 <= result.score <= 1.0


def test_analysis_extracts_for_the_predicted_label() -> None:
    classifier = make_keyword_classifier(RULES)
    texts = ["Big news. I joined Stripe as a Senior Software Engineer starting Monday in Seattle, WA!",
             "I passed the CISSP exam yesterday.",
             "Nice weather in Austin."]
    joined, passed, nothing = analyze_texts(texts, reference_date=REFERENCE, classifier=classifier)
    assert (joined.label, joined.title, joined.organization) == ("new_employment", "Senior Software Engineer",
                                                                  "Stripe")
    assert joined.snippet == "I joined Stripe as a Senior Software Engineer starting Monday in Seattle, WA!"
    assert joined.evidence is not None and texts[0][joined.evidence[0]:joined.evidence[1]] == joined.snippet
    assert joined.effective_date == date(2025, 1, 13)
    assert joined.locations == ("Seattle, WA",)
    assert joined.sentiment == "positive"
    assert (passed.title, passed.organization, passed.credential, passed.issuer) == (None, None, "CISSP", "ISC2")
    assert passed.effective_date == date(2025, 1, 7)
    assert (nothing.label, nothing.title, nothing.organization, nothing.credential) == ("none", None, None, None)


def test_reference_date_per_text() -> None:
    classifier = make_keyword_classifier(RULES)
    first, second = analyze_texts(["I joined Acme as CFO yesterday.", "I joined Acme as CFO yesterday."],
                                  reference_dates=[date(2024, 5, 2), None], reference_date=REFERENCE,
                                  classifier=classifier)
    assert first.effective_date == date(2024, 5, 1)
    assert second.effective_date == date(2025, 1, 7)
    with pytest.raises(ValueError, match="one date"):
        analyze_texts(["a", "b"], reference_dates=[REFERENCE], classifier=classifier)
    with pytest.raises(ValueError, match="kind"):
        analyze_texts(["a"], kind="animal", classifier=classifier)  # type: ignore[arg-type]
    assert analyze_texts([], classifier=classifier) == []


def test_company_texts_name_no_title_or_organization() -> None:
    (analysis,) = analyze_texts(["Acme is expanding into Texas with a new plant next year."], kind="company",
                                reference_date=REFERENCE, classifier=make_keyword_classifier(RULES))
    assert (analysis.kind, analysis.label, analysis.title, analysis.organization) == ("company", "expansion", None,
                                                                                      None)
    assert analysis.locations == ("Texas",)
    assert analysis.effective_date == date(2026, 1, 1)


def test_candidate_events() -> None:
    classifier = make_keyword_classifier(RULES)
    joined, laid_off, nothing, passed = analyze_texts(
        ["I joined Stripe as a Senior Software Engineer.", "I was laid off.", "Hello there.",
         "I passed the CISSP exam."], reference_date=REFERENCE, classifier=classifier)
    (event,) = to_candidate_events(joined)
    assert (event.type, event.identity, event.title, event.organization) == (
        SignalType.NEW_EMPLOYMENT, "stripe|senior software engineer", "Senior Software Engineer", "Stripe")
    assert event.snippet == "I joined Stripe as a Senior Software Engineer."
    assert event.details["sentiment"] == "positive"
    (loss,) = to_candidate_events(laid_off, observed_on=date(2025, 1, 6))
    assert (loss.type, loss.identity, loss.title, loss.organization) == (SignalType.JOB_LOSS, "text|2025-01", None,
                                                                       None)
    assert to_candidate_events(nothing) == []
    assert to_candidate_events(joined, min_confidence=0.95) == []
    (cert,) = to_candidate_events(passed)
    assert (cert.title, cert.organization, cert.identity) == ("CISSP", "ISC2", "cissp|isc2")


def test_company_intents_become_intent_signals_about_the_company() -> None:
    (analysis,) = analyze_texts(["Globex missed two loan payments this quarter."], kind="company",
                                reference_date=REFERENCE, classifier=make_keyword_classifier(RULES))
    (event,) = to_candidate_events(analysis, organization="Globex Corp.")
    assert event.type is SignalType.INTENT_FINANCIAL_DISTRESS
    assert (event.organization, event.title) == ("Globex Corp.", None)
    assert event.identity == "globex|intent|2025-01"
    assert label_for_signal_type(event.type.value) == ("company", "financial_distress")
    assert label_for_signal_type("promotion") == ("person", "promotion")


def test_snippets_are_cut_on_a_word_boundary() -> None:
    text = "word " * 200
    cut = snippet_of(text, None, limit=50)
    assert len(cut) <= 50 and cut.endswith("…") and not cut.endswith(" …")
    assert snippet_of("  a   short\ntext ", None) == "a short text"
