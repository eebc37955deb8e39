"""The shipped career-signal and company-intent models: labels, calibration, evidence, persistence."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from upswing.detection import registry
from upswing.detection.classifier import (
    COMPANY_LABELS,
    PERSON_LABELS,
    ModelIntegrityError,
    Prediction,
    TextClassifier,
    shipped_model_path,
    split_sentences,
)
from upswing.detection.registry import load_company_classifier, load_person_classifier


@pytest.fixture(scope="module")
def person() -> TextClassifier:
    return TextClassifier.load(shipped_model_path("person"))


@pytest.fixture(scope="module")
def company() -> TextClassifier:
    return TextClassifier.load(shipped_model_path("company"))


# Written for these tests (not copied from the training data or the dev set).
OBVIOUS = [
    ("Thrilled to say I've accepted an offer to join Spotify as a backend engineer next month!", "new_employment"),
    ("Vance Holdings said it hired Priya Raman, previously chief financial officer at Orbis, as its new CFO.",
     "new_employment"),
    ("After three years on the support desk, I've been promoted to IT manager at the same company.", "promotion"),
    ("Finally passed the AWS Certified Developer Associate exam this morning!", "certification"),
    ("I passed the NCLEX-RN and I'm officially a registered nurse!", "license_renewal"),
    ("She was admitted to the Illinois bar in 2014.", "license_renewal"),
    ("Our team won first prize at the city hackathon last weekend 🏆", "award"),
    ("He received the Royal Society's Copley Medal in 2019.", "award"),
    ("After ten years in restaurants I opened my own bakery in Leeds.", "business_launch"),
    ("Successfully defended my PhD thesis at the University of Oslo today!", "education"),
    ("She received a B.A. in history from Yale University in 1988.", "education"),
    ("I was laid off this week along with most of my team.", "job_loss"),
    ("The board fired chief executive Tom Reyes after two years of heavy losses.", "job_loss"),
    ("Excited to be speaking about observability at a meetup in Lisbon next week.", "none"),
]

HARD_NEGATIVES = [
    "Huge congratulations to my colleague Ana on her new role at Stripe!",  # congratulating someone else
    "We're hiring! Our team is looking for two senior data engineers in Berlin.",  # a company's hiring post
    "Recap of DevOpsDays Zurich: great talks on platform teams and far too much coffee.",  # an event recap
    "Our paper on graph transformers was accepted at NeurIPS!",  # a paper accepted
    "After 32 years at the bank, Gerald Hoffman is retiring at the end of March.",  # a retirement
    "I've decided to leave my job to spend more time with my children.",  # a voluntary resignation
    "Studying for the CISSP every evening this month, wish me luck.",  # studying for an exam
    "Passed my PhD qualifying exam today, on to the proposal!",  # a qualifying exam
    "Passed my driving test and got my driver's license at last 🚗",  # an ordinary driver's license
    "Our company won the regional Best Employer award for the third year running.",  # a company award
]


def test_labels_are_the_issue_labels(person: TextClassifier, company: TextClassifier) -> None:
    assert person.labels == PERSON_LABELS
    assert company.labels == COMPANY_LABELS


@pytest.mark.parametrize(("text", "label"), OBVIOUS)
def test_obvious_examples(person: TextClassifier, text: str, label: str) -> None:
    assert person.predict([text])[0].label == label


@pytest.mark.parametrize("text", HARD_NEGATIVES)
def test_hard_negatives_are_none(person: TextClassifier, text: str) -> None:
    prediction = person.predict([text])[0]
    assert prediction.label == "none"
    # No signal; a guess below its threshold still points at the sentence it came from (the low-confidence list).
    assert (prediction.evidence is None) == (prediction.best_label == "none")


def test_batch_and_single_predictions_agree(person: TextClassifier) -> None:
    texts = [text for text, _ in OBVIOUS]
    batch = person.predict(texts)
    assert batch == [person.predict([text])[0] for text in texts]
    assert person.predict([]) == []


def test_confidences_are_probabilities_and_higher_for_clear_cases(person: TextClassifier) -> None:
    clear = person.predict(["I got laid off today after six years at the company."])[0]
    vague = person.predict(["Big changes at work lately, more soon."])[0]
    probabilities = person.predict_proba(["I got laid off today.", "Big changes at work lately."])
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert ((probabilities >= 0) & (probabilities <= 1)).all()
    assert 0.0 <= vague.confidence <= 1.0
    assert clear.label == "job_loss"
    assert clear.confidence > 0.8
    # The vague text is no event: no event type gets anywhere near the clear case's confidence.
    vague_events = person.predict_proba(["Big changes at work lately, more soon."])[0][:-1]
    assert vague.label == "none" and vague_events.max() < clear.confidence - 0.5


def test_evidence_is_the_sentence_that_carries_the_signal(person: TextClassifier) -> None:
    text = ("Hi, I'm Dana, a designer from Porto. I love typography and long walks. "
            "Last month I was promoted to design director at Farfetch. Thanks for reading!")
    prediction = person.predict([text])[0]
    assert prediction.label == "promotion"
    assert prediction.evidence is not None
    start, end = prediction.evidence
    assert 0 <= start < end <= len(text)
    assert text[start:end] == "Last month I was promoted to design director at Farfetch."


def test_evidence_spans_stay_inside_odd_texts(person: TextClassifier) -> None:
    texts = ["", "   ", "🎉🎉🎉", "Joined Acme as CTO.\n\n\nMore soon...", "a" * 3000,
             "Mr. A. B. Smith joined Acme Inc. as CFO."]
    for text, prediction in zip(texts, person.predict(texts), strict=True):
        assert isinstance(prediction, Prediction)
        assert 0.0 <= prediction.confidence <= 1.0
        if prediction.evidence is not None:
            start, end = prediction.evidence
            assert 0 <= start < end <= len(text)


def test_split_sentences_keeps_abbreviations_and_initials_together() -> None:
    text = 'Mr. John P. Smith joined Acme Inc. as CFO. He starts Monday! "Great news." Next\nline'
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "Mr. John P. Smith joined Acme Inc. as CFO.", "He starts Monday!", '"Great news."', "Next", "line",
    ]
    assert split_sentences("") == []
    assert split_sentences("  padded  ") == [(2, 8)]


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Sales are up 45% this year and we're hiring twelve more technicians to keep up.", "growth"),
        ("We're opening our third bakery, this time in Manchester, next spring.", "expansion"),
        ("The retailer filed for Chapter 11 after missing two interest payments.", "financial_distress"),
        ("Looking for a bank that will give us an equipment loan for a new CNC machine.", "loan_need"),
        ("Can anyone recommend a consultant to help us implement an ERP system?", "consulting_need"),
        ("Happy holidays from all of us at the shop!", "none"),
    ],
)
def test_company_intent_examples(company: TextClassifier, text: str, label: str) -> None:
    prediction = company.predict([text])[0]
    assert prediction.label == label
    assert 0.0 <= prediction.confidence <= 1.0


def test_save_and_load_round_trip(person: TextClassifier, tmp_path: Path) -> None:
    target = person.save(tmp_path / "copy.npz")
    again = TextClassifier.load(target)
    texts = [text for text, _ in OBVIOUS]
    assert again.predict(texts) == person.predict(texts)
    assert json.loads(target.with_suffix(".json").read_text())["labels"] == list(PERSON_LABELS)


def test_load_refuses_a_tampered_artifact(tmp_path: Path) -> None:
    source = shipped_model_path("company")
    copy = tmp_path / "company.npz"
    shutil.copy(source, copy)
    shutil.copy(source.with_suffix(".json"), copy.with_suffix(".json"))
    TextClassifier.load(copy)  # the untouched copy loads
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="SHA-256"):
        TextClassifier.load(copy)
    copy.with_suffix(".json").unlink()
    with pytest.raises(ModelIntegrityError, match="both needed"):
        TextClassifier.load(copy)


def test_loaders_return_the_cached_current_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from upswing.settings import get_settings

    monkeypatch.setenv("UPSWING_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    registry.clear_model_cache()
    try:
        first = load_person_classifier()
        assert first is load_person_classifier()
        assert first.metadata["kind"] == "person"
        assert load_company_classifier().labels == COMPANY_LABELS
    finally:
        registry.clear_model_cache()
        get_settings.cache_clear()
