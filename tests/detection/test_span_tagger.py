"""The learned title/organization extractor: the shipped model, its decoding, its cross-validation, its wiring."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from factories import make_keyword_classifier
from upswing.detection import span_tagger
from upswing.detection.extraction import Role, extract_role
from upswing.detection.span_tagger import (
    FieldChoice,
    ModelMismatchError,
    Span,
    cross_validate_extraction,
    gold_tags,
    learned_role,
    load_model,
    tokenize,
)
from upswing.detection.text import analyze_texts

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
from extraction import evaluate


def test_the_shipped_model_loads_and_matches_its_metadata() -> None:
    shipped = load_model()
    meta = shipped.metadata
    assert meta["model_sha256"] == hashlib.sha256(span_tagger.MODEL_PATH.read_bytes()).hexdigest()
    assert meta["features_version"] == span_tagger.FEATURES_VERSION
    assert meta["counts"]["items"] == sum(entry["items"] for entry in meta["training_data"]) > 200
    assert meta["cv"] is not None and 0.0 < meta["cv"]["fields_match"] <= 1.0
    assert shipped.choice.needs_model() == (shipped.tagger is not None)


def test_the_training_data_hash_matches_the_data_it_names() -> None:
    files = [*span_tagger.DEFAULT_DATA, *span_tagger.DEFAULT_EXTRA]
    if not all(path.is_file() for path in files):
        pytest.skip("the shared signals data is not on this machine")
    meta = json.loads(span_tagger.METADATA_PATH.read_text(encoding="utf-8"))
    assert [entry["file"] for entry in meta["training_data"]] == [path.name for path in files]
    assert meta["training_data_sha256"] == span_tagger.data_sha256(files)


def test_a_tampered_model_is_refused(tmp_path: Path) -> None:
    model = tmp_path / "span_tagger.crfsuite"
    content = bytearray(span_tagger.MODEL_PATH.read_bytes())
    content[-1] ^= 0xFF
    model.write_bytes(bytes(content))
    with pytest.raises(ModelMismatchError):
        load_model(model, span_tagger.METADATA_PATH)


@pytest.mark.parametrize(("label", "text", "title", "organization"), [
    ("new_employment", "Excited to share that I joined Datadog as a Site Reliability Engineer.",
     "Site Reliability Engineer", "Datadog"),
    ("new_employment", "I'm starting a new position as Data Analyst at Humana next week!", "Data Analyst", "Humana"),
    ("new_employment", "Northbridge Capital Corp. said it named Laura Chen chief financial officer.",
     "chief financial officer", "Northbridge Capital Corp."),
    ("promotion", "Happy to share that I was promoted to Senior Product Manager at Zillow.",
     "Senior Product Manager", "Zillow"),
])
def test_clear_phrasings(label: str, text: str, title: str, organization: str) -> None:
    assert learned_role(text, label) == Role(title, organization)


def test_other_labels_get_the_rules_answer() -> None:
    text = "I founded Brightloop, a bakery in Austin."
    assert learned_role(text, "business_launch") == extract_role(text, "business_launch")


def test_tokens_keep_offsets_and_split_the_possessive() -> None:
    text = "Joined McDonald’s as a crew member @ U.S. Steel (Inc.)"
    tokens = tokenize(text)
    assert all(text[t.start:t.end] == t.text for t in tokens)
    assert [t.text for t in tokens][:3] == ["Joined", "McDonald", "’s"]
    assert "U.S." in [t.text for t in tokens] and "@" in [t.text for t in tokens]


def test_gold_tags_mark_the_first_occurrence_and_the_title_wins_an_overlap() -> None:
    text = "Acme hired me. I joined Acme as President of Acme Europe."
    tags = gold_tags(text, "President of Acme Europe", "Acme")
    words = [t.text for t in tokenize(text)]
    assert tags[0] == "B-ORG" and tags.count("B-ORG") == 1
    start = words.index("President")
    assert tags[start:start + 4] == ["B-TITLE", "I-TITLE", "I-TITLE", "I-TITLE"]


@pytest.mark.parametrize(("choice", "crf", "rules", "expected"), [
    (FieldChoice("rules"), Span("CRF", 0.99), "R", "R"),
    (FieldChoice("model"), None, "R", None),
    (FieldChoice("model_else_rules", 0.8), Span("CRF", 0.9), "R", "CRF"),
    (FieldChoice("model_else_rules", 0.8), Span("CRF", 0.7), "R", "R"),
    (FieldChoice("model_else_rules", 0.8), Span("CRF", 0.7), None, "CRF"),
    (FieldChoice("model_else_rules", 1.01), Span("CRF", 1.0), "R", "R"),
])
def test_a_field_choice_trusts_the_crf_above_its_threshold(choice: FieldChoice, crf: Span | None,
                                                           rules: str | None, expected: str | None) -> None:
    assert choice.pick(crf, rules) == expected


TINY = [
    ("new_employment", "I joined {org} as a {title}.", "Acme Labs", "Data Engineer"),
    ("new_employment", "Excited to start at {org} as {title} next week.", "Globex", "Product Designer"),
    ("promotion", "I was promoted to {title} at {org}!", "Initech", "Senior Analyst"),
    ("new_employment", "{org} named Jane Roe {title}.", "Umbrella Corp", "chief executive officer"),
    ("promotion", "Proud to be promoted to {title} at {org} today.", "Hooli", "Engineering Manager"),
    ("new_employment", "Starting my new role as {title} with {org}.", "Stark Industries", "Staff Engineer"),
]


def _write_tiny(path: Path, prefix: str, rows: list[tuple[str, str, str, str]]) -> Path:
    lines = [json.dumps({"id": f"{prefix}-{i}", "text": text.format(org=org, title=title), "label": label,
                         "title": title, "organization": org, "source": "test"})
             for i, (label, text, org, title) in enumerate(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_cross_validation_runs_on_a_tiny_dataset(tmp_path: Path) -> None:
    first = _write_tiny(tmp_path / "signals_a.jsonl", "a", TINY)
    second = _write_tiny(tmp_path / "signals_b.jsonl", "b", TINY[::-1])
    result: dict[str, Any] = cross_validate_extraction(folds=2, seed=13, data=[first, second], extra=[],
                                                       inner_folds=2, c1_grid=(0.1,), c2_grid=(0.1,))
    assert set(result["by_source"]) == {"a", "b"}
    assert set(result["candidates"]) == set(span_tagger.CANDIDATES)
    for name in ("fields_match", "title_match", "organization_match"):
        assert 0.0 <= result[name] <= 1.0
    assert len(result["chosen"]["selected"]) == 2
    # the rules need no training: their CV figure is their plain figure under the benchmark's own scoring
    rows = [json.loads(line) for path in (first, second) for line in path.read_text().splitlines()]
    assert round(100 * result["candidates"]["rules"], 1) == evaluate(rows)["fields_match_pct"]


def test_folds_are_stratified_by_file_and_cover_every_item() -> None:
    items = [span_tagger.Item(f"{s}-{i}", "I joined Acme as CTO.", "new_employment", "CTO", "Acme", s)
             for s, n in (("dev", 7), ("train", 11)) for i in range(n)]
    rows = span_tagger._prepare(items)
    fold = span_tagger._folds(rows, 5, 13)
    for source, n in (("dev", 7), ("train", 11)):
        sizes = [sum(1 for r, f in zip(rows, fold, strict=True) if r.item.source == source and f == k)
                 for k in range(5)]
        assert sum(sizes) == n and max(sizes) - min(sizes) <= 1


def test_the_pipeline_takes_title_and_organization_from_the_learned_extractor(
        monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, Role]] = []

    class Stub:
        def role(self, text: str, label: str, rules: Role) -> Role:
            seen.append((label, rules))
            return Role("learned title", "learned org")

    monkeypatch.setattr(span_tagger, "load_shipped", lambda: Stub())
    classifier = make_keyword_classifier({"joined": "new_employment", "passed": "certification"})
    joined, passed = analyze_texts(["I joined Stripe as a Senior Software Engineer.", "I passed the CISSP exam."],
                                   classifier=classifier)
    assert (joined.title, joined.organization) == ("learned title", "learned org")
    assert seen == [("new_employment", Role("Senior Software Engineer", "Stripe"))]  # the rules' answer, stacked
    assert (passed.title, passed.organization, passed.credential) == (None, None, "CISSP")
