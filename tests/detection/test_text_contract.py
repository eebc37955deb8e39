"""The batch contract ``upswing classify`` (no database), run against the shipped model."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from upswing.cli import app as cli_app
from upswing.detection.classifier import COMPANY_LABELS, PERSON_LABELS

KEYS = {"id", "label", "best_label", "confidence", "title", "organization", "sentiment"}
ROLE_LABELS = {"new_employment", "promotion", "business_launch"}


@pytest.fixture
def classify(tmp_path: Path) -> Callable[..., Any]:
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(cli_app, ["classify", *args], catch_exceptions=False)

    return run


def _write(path: Path, lines: list[Any]) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines),
                    encoding="utf-8")
    return path


def _read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


PERSON_TEXTS = [
    {"id": "a", "text": "I'm thrilled to share that I've joined Stripe as a Senior Software Engineer!"},
    {"id": 2, "text": "I got laid off today after six years at the company."},
    {"id": "c", "text": "Had a great time at the conference in Denver, lots of good talks."},
    {"id": "d", "text": "I passed the AWS Certified Solutions Architect exam yesterday!"},
    {"id": "e", "text": "Excited to announce that I've been promoted to Engineering Manager at Shopify."},
]


def test_output_lines_follow_the_contract(classify: Callable[..., Any], tmp_path: Path) -> None:
    source = _write(tmp_path / "in.jsonl", [*PERSON_TEXTS, ""])  # a blank line is skipped
    target = tmp_path / "out" / "result.jsonl"
    result = classify("--input", str(source), "--output", str(target))
    assert result.exit_code == 0, result.output
    rows = _read(target)
    assert [row["id"] for row in rows] == ["a", 2, "c", "d", "e"]  # input order, ids as given
    for row in rows:
        assert set(row) == KEYS
        assert row["label"] in PERSON_LABELS
        assert isinstance(row["confidence"], float) and 0.0 <= row["confidence"] <= 1.0
        assert row["sentiment"] in ("positive", "neutral", "negative")
        if row["label"] not in ROLE_LABELS:
            assert row["title"] is None and row["organization"] is None
    by_id = {row["id"]: row for row in rows}
    assert by_id[2]["sentiment"] == "negative"  # "laid off"
    assert by_id["a"]["label"] == "new_employment"
    assert (by_id["a"]["title"], by_id["a"]["organization"]) == ("Senior Software Engineer", "Stripe")
    assert by_id[2]["label"] == "job_loss"


def test_company_kind_uses_the_intent_labels(classify: Callable[..., Any], tmp_path: Path) -> None:
    source = _write(tmp_path / "in.jsonl", [
        {"id": 1, "text": "Acme Corp is opening three new offices in Texas and Ohio next year."},
        {"id": 2, "text": "Globex missed its loan payments and is considering bankruptcy protection."},
    ])
    target = tmp_path / "out.jsonl"
    assert classify("--input", str(source), "--output", str(target), "--kind", "company").exit_code == 0
    rows = _read(target)
    assert all(set(row) == KEYS and row["label"] in COMPANY_LABELS for row in rows)
    assert all(row["title"] is None and row["organization"] is None for row in rows)
    assert rows[1]["sentiment"] == "negative"


def test_bad_lines_are_named_and_nothing_is_written(classify: Callable[..., Any], tmp_path: Path) -> None:
    source = _write(tmp_path / "in.jsonl", [
        {"id": 1, "text": "I joined Acme as a Data Analyst."},
        "{not json",
        {"id": 3},
        {"id": 4, "text": 42},
        {"text": "no id here"},
        {"id": 6, "text": "   "},
        ["a", "list"],
    ])
    target = tmp_path / "out.jsonl"
    target.write_text("previous results\n", encoding="utf-8")
    result = classify("--input", str(source), "--output", str(target))
    assert result.exit_code == 1
    output = " ".join(result.output.split())
    assert "6 bad line(s)" in output
    assert "line 2: not valid JSON" in output
    assert "line 3, field 'text': missing" in output
    assert "line 4, field 'text': must be a string, not int" in output
    assert "line 5, field 'id': missing" in output
    assert "line 6, field 'text': is empty" in output
    assert "line 7: a line must be a JSON object" in output
    assert target.read_text(encoding="utf-8") == "previous results\n"  # untouched
    assert {p.name for p in tmp_path.iterdir()} == {"in.jsonl", "out.jsonl"}  # no temporary file left behind


def test_missing_input_and_bad_kind_are_refused(classify: Callable[..., Any], tmp_path: Path) -> None:
    assert classify("--input", str(tmp_path / "nope.jsonl"), "--output", str(tmp_path / "o.jsonl")).exit_code == 2
    source = _write(tmp_path / "in.jsonl", [{"id": 1, "text": "hello"}])
    assert classify("--input", str(source), "--output", str(tmp_path / "o.jsonl"), "--kind", "animal"
                    ).exit_code == 2
    bad_date = classify("--input", str(source), "--output", str(tmp_path / "o.jsonl"), "--reference-date", "soon")
    assert bad_date.exit_code == 1 and "--reference-date" in bad_date.output
    assert not (tmp_path / "o.jsonl").exists()


def test_a_big_file_goes_through_in_batches(classify: Callable[..., Any], tmp_path: Path) -> None:
    lines = [{"id": n, "text": PERSON_TEXTS[n % len(PERSON_TEXTS)]["text"]} for n in range(1200)]
    source = _write(tmp_path / "in.jsonl", lines)
    target = tmp_path / "out.jsonl"
    result = classify("--input", str(source), "--output", str(target))
    assert result.exit_code == 0, result.output
    rows = _read(target)
    assert [row["id"] for row in rows] == list(range(1200))
    assert rows[0] == {**rows[5], "id": 0}  # the same text gets the same answer in another batch


def test_label_is_the_decision_and_best_label_the_guess(classify: Callable[..., Any], tmp_path: Path) -> None:
    from upswing.detection.classifier import TextClassifier, shipped_model_path

    thresholds = TextClassifier.load(shipped_model_path("person")).thresholds
    texts = [
        # A real news headline about a product: no event at all (once "new_employment" with the title "well").
        {"id": 1, "text": "Microsoft announced new agents in Microsoft 365 Copilot, as well as new reasoning models "
                          "for enterprise customers."},
        {"id": 2, "text": "Finally passed the AWS Certified Developer Associate exam this morning!"},
        {"id": 3, "text": "Not sure yet but I think I might start somewhere new soon, fingers crossed"},
    ]
    target = tmp_path / "out.jsonl"
    assert classify("--input", str(_write(tmp_path / "in.jsonl", texts)), "--output", str(target)).exit_code == 0
    rows = {row["id"]: row for row in _read(target)}
    assert rows[1]["label"] == "none" and rows[1]["title"] is None
    assert (rows[2]["label"], rows[2]["best_label"]) == ("certification", "certification")
    for row in rows.values():
        cleared = row["best_label"] == "none" or row["confidence"] >= thresholds[row["best_label"]]
        assert row["label"] == (row["best_label"] if cleared else "none")
