"""The text pipeline: classify a batch of texts, extract what each one names, score its sentiment, and turn
the result into candidate events.

For new jobs and promotions the title and employer come from the learned extractor (``span_tagger``: a CRF
combined per field with the rules' answer, as cross-validation chose); every other field from the rules.

``analyze_texts`` is what the batch contract (``upswing classify``), the text ingest and the benchmark call.
Pure: no database; the classifier is loaded once per process (D1's ``load_person_classifier`` /
``load_company_classifier``) unless one is passed in.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, Protocol

from upswing.core.metrics import MODEL_PREDICTIONS
from upswing.core.names import company_key, title_key
from upswing.detection.classifier import Prediction
from upswing.detection.events import NON_TEXT_TYPES, CandidateEvent, SignalType
from upswing.detection.extraction import (
    DateMention,
    Role,
    effective_date,
    extract,
    extract_dates,
    extract_locations,
    extract_people,
)
from upswing.detection.sentiment import Sentiment, sentiment
from upswing.detection.span_tagger import LEARNED_LABELS, learned_role

__all__ = [
    "COMPANY_INTENTS",
    "PERSON_EVENT_LABELS",
    "TextAnalysis",
    "TextKind",
    "analyze_texts",
    "intent_signal_type",
    "label_for_signal_type",
    "to_candidate_events",
]

TextKind = Literal["person", "company"]
NO_SIGNAL = "none"
#: Labels of the person classifier that are events (every one but ``none``): the signal types of the same name.
PERSON_EVENT_LABELS: tuple[str, ...] = tuple(t.value for t in SignalType
                                             if not t.value.startswith("intent_") and t.value not in NON_TEXT_TYPES)
#: Labels of the company classifier that are intents; each becomes the signal type ``intent_<label>``.
COMPANY_INTENTS: tuple[str, ...] = ("growth", "expansion", "financial_distress", "loan_need", "consulting_need")
#: Evidence snippets are cut to this many characters (on a word boundary).
SNIPPET_MAX = 300


class Classifier(Protocol):
    def predict(self, texts: Sequence[str]) -> list[Prediction]: ...


@dataclass(frozen=True, slots=True)
class TextAnalysis:
    """What the pipeline found in one text."""

    kind: TextKind
    label: str  # the decision: a type only when the top guess clears its confidence threshold, else ``none``
    confidence: float  # calibrated confidence of the top guess
    evidence: tuple[int, int] | None  # character span of the sentence that decided the label
    snippet: str  # the evidence span's text (what a person reads to check the label)
    title: str | None  # new job title (new_employment, promotion, business_launch), else None
    organization: str | None  # its employer or the business launched, else None
    credential: str | None  # certification, license, award or degree name
    issuer: str | None
    people: tuple[str, ...]
    dates: tuple[DateMention, ...]
    locations: tuple[str, ...]
    effective_date: date | None
    sentiment: Sentiment
    sentiment_score: float
    best_label: str = NO_SIGNAL  # the top guess, whether or not it cleared its threshold

    @property
    def below_threshold(self) -> bool:
        """The text looks like an event, but not surely enough to become a signal (the low-confidence list)."""
        return self.label == NO_SIGNAL and self.best_label != NO_SIGNAL

    def contract(self, item_id: Any) -> dict[str, Any]:
        """One output line of ``upswing classify`` (the batch contract: exactly these keys)."""
        return {"id": item_id, "label": self.label, "best_label": self.best_label, "confidence": self.confidence,
                "title": self.title, "organization": self.organization, "sentiment": self.sentiment}


def intent_signal_type(intent: str) -> SignalType:
    """``growth`` → ``intent_growth``."""
    return SignalType(f"intent_{intent}")


def label_for_signal_type(signal_type: str) -> tuple[TextKind, str]:
    """The classifier and label a signal type comes from: ``intent_growth`` → (company, growth)."""
    if signal_type.startswith("intent_"):
        return "company", signal_type.removeprefix("intent_")
    return "person", signal_type


_SPACE = re.compile(r"\s+")


def snippet_of(text: str, span: tuple[int, int] | None, limit: int = SNIPPET_MAX) -> str:
    """The words of ``span`` (or of the text's start when there is none), at most ``limit`` characters."""
    start, end = span if span is not None else (0, len(text))
    words = _SPACE.sub(" ", text[start:end]).strip()
    if len(words) <= limit:
        return words
    cut = words.rfind(" ", 0, limit - 1)
    return words[:cut if cut > limit // 2 else limit - 1].rstrip(" ,;:") + "…"


def _load(kind: TextKind) -> Classifier:
    from upswing.detection import registry

    return registry.load_company_classifier() if kind == "company" else registry.load_person_classifier()


def analyze_texts(texts: Sequence[str], *, kind: TextKind = "person", reference_date: date | None = None,
                  reference_dates: Sequence[date | None] | None = None,
                  classifier: Classifier | None = None) -> list[TextAnalysis]:
    """Label, confidence, evidence, extracted fields and sentiment for every text, in order.

    Dates are normalized against ``reference_date`` (default today: "starting Monday" is the coming Monday),
    or per text against ``reference_dates`` (a post's publication date), falling back to ``reference_date``.
    """
    if kind not in ("person", "company"):
        raise ValueError(f"kind must be person or company, not {kind!r}")
    if reference_dates is not None and len(reference_dates) != len(texts):
        raise ValueError("reference_dates must have one date (or None) per text")
    if not texts:
        return []
    model = classifier or _load(kind)
    predictions = model.predict(texts)
    for label, count in Counter(prediction.label for prediction in predictions).items():
        MODEL_PREDICTIONS.labels(kind, label).inc(count)  # upswing_model_predictions_total (core/metrics.py)
    default = reference_date or date.today()
    references = reference_dates or [None] * len(texts)
    return [_analyze(text, prediction, kind, reference or default)
            for text, prediction, reference in zip(texts, predictions, references, strict=True)]


def _analyze(text: str, prediction: Prediction, kind: TextKind, reference: date) -> TextAnalysis:
    mood = sentiment(text)
    span = prediction.evidence
    if kind == "person":
        found = extract(text, prediction.label, reference_date=reference, evidence=span)
        title, organization = found.title, found.organization
        if prediction.label in LEARNED_LABELS:  # the learned extractor, stacked on the rules' answer
            role = learned_role(text, prediction.label, Role(title, organization))
            title, organization = role.title, role.organization
        credential, issuer = found.credential, found.issuer
        people, dates, locations, effective = found.people, found.dates, found.locations, found.effective_date
    else:
        title = organization = credential = issuer = None
        people = tuple(extract_people(text))
        dates = tuple(extract_dates(text, reference))
        locations = tuple(extract_locations(text))
        effective = effective_date(dates, near=span)
    return TextAnalysis(
        kind=kind, label=prediction.label, best_label=prediction.best_label or prediction.label,
        confidence=prediction.confidence, evidence=span,
        snippet=snippet_of(text, span), title=title, organization=organization, credential=credential,
        issuer=issuer, people=people, dates=dates, locations=locations, effective_date=effective,
        sentiment=mood.label, sentiment_score=mood.score,
    )


def to_candidate_events(analysis: TextAnalysis, *, min_confidence: float = 0.0, observed_on: date | None = None,
                        organization: str | None = None) -> list[CandidateEvent]:
    """The event a text reports (none for the ``none`` label or below ``min_confidence``).

    Person texts give the signal type of their label; company texts give ``intent_<label>`` about
    ``organization`` (the company the text is about). The identity makes the same event seen in two texts
    one signal: employer and title for a job (as the profile diff builds it), credential and issuer for a
    certification, license, award or degree, else the type and the month of the event (its effective date,
    else ``observed_on``).
    """
    if analysis.label == NO_SIGNAL or analysis.confidence < min_confidence:
        return []
    when = analysis.effective_date or observed_on
    month = when.strftime("%Y-%m") if when else "undated"
    details = {"source": "text", "label": analysis.label, "sentiment": analysis.sentiment}
    if analysis.evidence is not None:
        details["evidence_span"] = f"{analysis.evidence[0]}-{analysis.evidence[1]}"
    if analysis.kind == "company":
        if analysis.label not in COMPANY_INTENTS:
            return []
        company = organization or analysis.organization
        details["intent"] = analysis.label
        return [CandidateEvent(
            type=intent_signal_type(analysis.label), identity=f"{company_key(company)}|intent|{month}",
            confidence=analysis.confidence, snippet=analysis.snippet, title=None, organization=company,
            effective_date=analysis.effective_date, details=details)]
    if analysis.label not in PERSON_EVENT_LABELS:
        return []
    signal_type = SignalType(analysis.label)
    title, org = analysis.title, analysis.organization
    if analysis.credential:
        title, org = analysis.credential, analysis.issuer
        identity = f"{title_key(title)}|{company_key(org)}"
    elif title or org:
        identity = f"{company_key(org)}|{title_key(title)}"
    else:
        identity = f"text|{month}"
    return [CandidateEvent(type=signal_type, identity=identity, confidence=analysis.confidence,
                           snippet=analysis.snippet, title=title, organization=org,
                           effective_date=analysis.effective_date, details=details)]
