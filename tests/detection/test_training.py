"""Training pipeline: data validation, metrics, calibration, registry, promotion rule, CLI output."""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from upswing.detection import registry
from upswing.detection.classifier import COMPANY_LABELS, PERSON_LABELS, TextClassifier, shipped_model_path
from upswing.detection.training import (
    DataError,
    Example,
    Hyperparameters,
    choose_thresholds,
    compute_metrics,
    cross_validate,
    decide,
    fit_classifier,
    fit_temperature,
    read_examples,
    train_model,
)

REPO = Path(__file__).resolve().parents[2]

# A tiny but learnable person data set: a few phrasings per label, with slots filled in.
_PHRASES = {
    "new_employment": ["I just joined {org} as a {role}.", "{name} has joined {org} as {role}.",
                       "Starting my new job at {org} on Monday!"],
    "promotion": ["I was promoted to senior {role} at {org}.", "{name} was promoted to lead {role}.",
                  "Got promoted to principal {role} today!"],
    "certification": ["I passed the AWS certification exam.", "{name} earned the PMP certification.",
                      "Passed my CISSP exam today!"],
    "license_renewal": ["I passed the NCLEX and got my nursing license.", "{name} was admitted to the bar.",
                        "Just got my real estate license!"],
    "award": ["I received the best paper award.", "{name} won the teaching award.",
              "Honored to receive a national scholarship."],
    "business_launch": ["I founded my own company, {org}.", "{name} opened her own bakery.",
                        "I started my own consulting firm."],
    "education": ["I graduated with a degree in physics.", "{name} received a PhD from {org}.",
                  "Started my master's program at {org}!"],
    "job_loss": ["I was laid off from {org}.", "{name} was fired by the board.", "My position was eliminated."],
    "none": ["I attended a conference in {org}.", "{name} gave a talk about databases.",
             "Our paper was accepted at a workshop."],
}
_FILL = [("Acme", "engineer", "Ana Ruiz"), ("Globex", "analyst", "Li Wei"), ("Initech", "designer", "Sam Okoro"),
         ("Umbrella", "manager", "Eva Berg"), ("Hooli", "developer", "Raj Patel"), ("Vandelay", "nurse", "Kim Lee")]


def small_examples(offset: int = 0) -> list[dict[str, str]]:
    rows = []
    for label, phrases in _PHRASES.items():
        for i, phrase in enumerate(phrases):
            for org, role, name in _FILL[offset : offset + 3]:
                text = phrase.format(org=org, role=role, name=name) + f" ({name.split()[0]} {i})"
                rows.append({"text": text, "label": label})
    return rows


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


@pytest.fixture
def person_data(tmp_path: Path) -> tuple[Path, Path]:
    """(data dir with signals/train_small.jsonl, a separate validation file)."""
    data_dir = tmp_path / "data"
    write_jsonl(data_dir / "signals" / "train_small.jsonl", small_examples(0))
    validation = write_jsonl(tmp_path / "dev.jsonl", small_examples(3))
    return data_dir, validation


@pytest.fixture
def isolated_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    from upswing.detection.registry import clear_model_cache
    from upswing.settings import get_settings

    monkeypatch.setenv("UPSWING_DATA_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    clear_model_cache()
    yield tmp_path / "var" / "models"
    clear_model_cache()
    get_settings.cache_clear()


# --------------------------------------------------------------------------------------------------
# Data and metrics
# --------------------------------------------------------------------------------------------------


def test_read_examples_names_file_and_row(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "ok", "label": "award"}\nnot json\n{"text": "", "label": "award"}\n'
                    '{"text": "x", "label": "wizardry"}\n[1]\n')
    with pytest.raises(DataError) as error:
        read_examples(path, PERSON_LABELS)
    message = str(error.value)
    assert "4 bad row(s)" in message
    assert f"{path}: row 2: not valid JSON" in message
    assert "row 3: field 'text' must be a non-empty string" in message
    assert "row 4: field 'label' is 'wizardry'" in message
    assert "row 5: expected a JSON object" in message
    with pytest.raises(DataError, match="no such file"):
        read_examples(tmp_path / "missing.jsonl", PERSON_LABELS)


def test_compute_metrics_by_hand() -> None:
    labels = ("a", "b", "none")
    y_true = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    y_pred = np.array([0, 0, 1, 1, 2, 2, 2, 0])
    metrics = compute_metrics(labels, y_true, y_pred)
    assert metrics.confusion == [[2, 1, 0], [0, 1, 1], [1, 0, 2]]
    assert metrics.precision == pytest.approx([2 / 3, 1 / 2, 2 / 3])
    assert metrics.recall == pytest.approx([2 / 3, 1 / 2, 2 / 3])
    assert metrics.f1 == pytest.approx([2 / 3, 1 / 2, 2 / 3])
    assert metrics.macro_f1 == pytest.approx((2 / 3 + 1 / 2 + 2 / 3) / 3)
    assert metrics.accuracy == pytest.approx(5 / 8)


def test_fit_temperature_softens_overconfident_scores() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    logits = rng.normal(size=(300, 3))
    logits[np.arange(300), y] += 1.0  # right two times in three or so…
    overconfident = logits * 8  # …but with huge margins
    assert fit_temperature(overconfident, y) > 3
    probabilities_metrics = compute_metrics(("a", "b", "c"), y, overconfident.argmax(1),
                                            np.exp(overconfident) / np.exp(overconfident).sum(1, keepdims=True))
    assert probabilities_metrics.ece is not None and probabilities_metrics.ece > 0.1


# --------------------------------------------------------------------------------------------------
# Fitting, persistence, cross-validation
# --------------------------------------------------------------------------------------------------


def test_train_save_load_round_trip(tmp_path: Path) -> None:
    examples = [Example(row["text"], row["label"]) for row in small_examples(0)]
    model = fit_classifier(examples, PERSON_LABELS, Hyperparameters())
    texts = ["Mia Chen was promoted to lead analyst.", "I was laid off from Initech.", "I founded my own company."]
    before = model.predict(texts)
    assert [p.label for p in before] == ["promotion", "job_loss", "business_launch"]
    path = model.save(tmp_path / "small.npz")
    again = TextClassifier.load(path)
    assert again.predict(texts) == before
    assert np.allclose(again.predict_proba(texts), model.predict_proba(texts), atol=1e-4)


def test_cross_validation_never_predicts_an_item_with_a_model_that_saw_it(monkeypatch: pytest.MonkeyPatch) -> None:
    own = [Example(row["text"], row["label"]) for row in small_examples(0)]
    validated = [Example(row["text"], row["label"], "dev") for row in small_examples(3)]
    seen: list[tuple[set[str], list[str]]] = []
    original = TextClassifier.decision_function

    import upswing.detection.training as training

    real_fit = training.fit_classifier

    def spying_fit(examples: list[Example], *args: Any, **kwargs: Any) -> TextClassifier:
        model = real_fit(examples, *args, **kwargs)
        trained = {e.text for e in examples}

        def decision(self: TextClassifier, texts: list[str]) -> np.ndarray:
            seen.append((trained, list(texts)))
            return original(self, texts)

        model.decision_function = types.MethodType(decision, model)  # type: ignore[method-assign]
        return model

    monkeypatch.setattr(training, "fit_classifier", spying_fit)
    result = cross_validate(own, validated, PERSON_LABELS, Hyperparameters(), folds=3)
    assert len(seen) == 3
    predicted = [text for _, texts in seen for text in texts]
    assert sorted(predicted) == sorted(e.text for e in validated)  # every item predicted exactly once
    own_texts = {e.text for e in own}
    for trained, texts in seen:
        assert own_texts <= trained  # our own data is in every training fold
        assert not trained & set(texts)  # …and the predicted fold never is
    assert result.probabilities.shape == (len(validated), len(PERSON_LABELS))


# --------------------------------------------------------------------------------------------------
# Registry and the promotion rule
# --------------------------------------------------------------------------------------------------


def test_train_model_registers_and_promotes_only_when_not_worse(
    person_data: tuple[Path, Path], isolated_registry: Path
) -> None:
    data_dir, validation = person_data
    first = train_model("person", data_dir=data_dir, validation_paths=[validation], folds=3, version="person-a")
    # The shipped model was validated on the real dev set, so the two cannot be compared: kept, not promoted.
    assert not first.promoted
    assert "cannot be compared" in first.reason
    assert registry.current_version("person") == "shipped"
    registry.promote("person", "person-a")
    assert registry.current_version("person") == "person-a"
    metadata = json.loads((isolated_registry / "person" / "person-a" / "model.json").read_text())
    assert metadata["version"] == "person-a"
    assert metadata["validation"]["macro_f1"] == pytest.approx(first.metrics.macro_f1, abs=1e-4)
    assert len(metadata["training_data_sha256"]) == 64

    # Corrections that contradict the data (every text relabelled to the next label) make it worse.
    wrong = [(row["text"], PERSON_LABELS[(PERSON_LABELS.index(row["label"]) + 1) % len(PERSON_LABELS)])
             for row in small_examples(0) * 3]
    worse = train_model("person", data_dir=data_dir, validation_paths=[validation], feedback=wrong, folds=3,
                        version="person-b")
    assert worse.metrics.macro_f1 < first.metrics.macro_f1
    assert not worse.promoted
    assert "not promoted" in worse.reason and "person-b" in worse.reason
    assert registry.current_version("person") == "person-a"
    assert (isolated_registry / "person" / "person-b" / "model.npz").is_file()  # kept

    # Consistent corrections do not lose macro-F1: promoted.
    right = [(row["text"], row["label"]) for row in small_examples(1)]
    better = train_model("person", data_dir=data_dir, validation_paths=[validation], feedback=right, folds=3,
                         version="person-c")
    assert better.metrics.macro_f1 >= first.metrics.macro_f1
    assert better.promoted
    assert registry.current_version("person") == "person-c"
    versions = [entry.version for entry in registry.list_models("person")]
    assert versions == ["shipped", "person-a", "person-b", "person-c"]


def test_feedback_that_repeats_validation_texts_is_dropped(
    person_data: tuple[Path, Path], isolated_registry: Path
) -> None:
    data_dir, validation = person_data
    leaked = [(row["text"].upper() + "!", row["label"]) for row in small_examples(3)]
    result = train_model("person", data_dir=data_dir, validation_paths=[validation], feedback=leaked, folds=3,
                         version="person-x")
    assert result.counts["feedback"] == 0


def test_a_worse_company_model_is_not_promoted_over_the_shipped_one(tmp_path: Path, isolated_registry: Path) -> None:
    rows = [json.loads(line) for line in (REPO / "data/intent/train_handwritten.jsonl").read_text().splitlines()]
    # Shuffled labels: a model that learns nothing useful.
    rng = np.random.default_rng(1)
    labels = [row["label"] for row in rows]
    rng.shuffle(labels)
    write_jsonl(tmp_path / "data" / "intent" / "train_shuffled.jsonl",
                [{"text": row["text"], "label": label} for row, label in zip(rows, labels, strict=True)])
    result = train_model("company", data_dir=tmp_path / "data",
                         validation_paths=[REPO / "data/intent/validation.jsonl"], version="company-bad")
    assert result.baseline_macro_f1 is not None and result.baseline_macro_f1 > 0.8  # the shipped model
    assert result.metrics.macro_f1 < result.baseline_macro_f1
    assert not result.promoted
    assert registry.current_version("company") == "shipped"


def test_promote_refuses_unknown_versions(isolated_registry: Path) -> None:
    with pytest.raises(registry.RegistryError, match="no person model version"):
        registry.promote("person", "nope")
    with pytest.raises(registry.RegistryError, match="unknown model kind"):
        registry.current_version("planet")
    registry.promote("person", "shipped")  # going back to the packaged model is always possible
    assert registry.current_model_path("person") == shipped_model_path("person")


# --------------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def run_cli(isolated_registry: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    from upswing.cli import app
    from upswing.core import cli_support

    for console in (cli_support.console, cli_support.err_console):  # wide enough that tables never wrap
        monkeypatch.setattr(console, "width", 250)
    runner = CliRunner()

    def invoke(*args: str) -> Any:
        return runner.invoke(app, list(args), env={"COLUMNS": "250"}, catch_exceptions=False)

    return invoke


def test_evaluate_prints_per_class_scores_and_confusion_matrix(run_cli: Callable[..., Any]) -> None:
    result = run_cli("model", "evaluate", "--data", str(REPO / "data/intent/validation.jsonl"), "--kind", "company")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "validation.jsonl: model" in lines[0]
    assert lines[1].split() == ["label", "precision", "recall", "f1", "support"]
    for label in COMPANY_LABELS:
        row = next(line for line in lines if line.startswith(label + " "))
        assert len(row.split()) == 5
    assert any(line.startswith("macro-F1 ") for line in lines)
    assert any(line.startswith("calibration: ECE") for line in lines)
    header = lines.index("confusion matrix (rows: true, columns: predicted)")
    matrix = [[int(v) for v in line.split()[1:]] for line in lines[header + 2 : header + 2 + len(COMPANY_LABELS)]]
    assert sum(map(sum, matrix)) == len((REPO / "data/intent/validation.jsonl").read_text().splitlines())


def test_evaluate_cross_validates_on_request(run_cli: Callable[..., Any], person_data: tuple[Path, Path]) -> None:
    data_dir, validation = person_data
    result = run_cli("model", "evaluate", "--data", str(validation), "--cv", "3", "--data-dir", str(data_dir))
    assert result.exit_code == 0, result.output
    assert "stratified 3-fold cross-validation" in result.output
    assert "macro-F1" in result.output


def test_evaluate_reports_bad_rows(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"text": "hello", "label": "unicorn"}])
    result = run_cli("model", "evaluate", "--data", str(bad))
    assert result.exit_code == 1
    assert "row 1: field 'label' is 'unicorn'" in result.output


def test_train_list_and_promote_commands(
    run_cli: Callable[..., Any], person_data: tuple[Path, Path], isolated_registry: Path
) -> None:
    data_dir, validation = person_data
    trained = run_cli("model", "train", "--kind", "person", "--data-dir", str(data_dir), "--validation",
                      str(validation), "--cv", "3")
    assert trained.exit_code == 0, trained.output
    assert "macro-F1" in trained.output and "not promoted" in trained.output
    version = next(p.name for p in (isolated_registry / "person").iterdir() if p.is_dir())
    listed = run_cli("model", "list", "--kind", "person")
    assert version in listed.output and "shipped" in listed.output
    promoted = run_cli("model", "promote", version, "--kind", "person")
    assert promoted.exit_code == 0
    assert registry.current_version("person") == version
    missing = run_cli("model", "promote", "person-nope")
    assert missing.exit_code == 1


def test_train_with_feedback_reads_corrections_from_the_database(
    cli: Callable[..., Any], person_data: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir, validation = person_data
    calls: list[str] = []

    def load_labelled_examples(session: object, kind: str) -> list[tuple[str, str]]:
        calls.append(kind)
        return [("Wen joined Globex as an analyst last week.", "new_employment")]

    fake = types.ModuleType("upswing.signal.feedback")
    fake.load_labelled_examples = load_labelled_examples  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "upswing.signal.feedback", fake)
    args = ("model", "train", "--include-feedback", "--data-dir", str(data_dir), "--validation", str(validation),
            "--cv", "3")
    unmigrated = cli(*args)
    assert unmigrated.exit_code == 1
    assert "upswing db upgrade" in unmigrated.output
    assert cli("db", "upgrade").exit_code == 0
    result = cli(*args)
    assert result.exit_code == 0, result.output
    assert calls == ["person"]
    assert "1 feedback" in result.output


# ---- the precision floor ------------------------------------------------------------------------------------------

LABELS3 = ("promotion", "award", "none")


def _rows(*rows: tuple[int, float]) -> np.ndarray:
    """Probability rows whose top label and confidence are given (the rest shared by the other labels)."""
    probabilities = np.zeros((len(rows), len(LABELS3)))
    for i, (k, confidence) in enumerate(rows):
        probabilities[i] = (1 - confidence) / (len(LABELS3) - 1)
        probabilities[i, k] = confidence
    return probabilities


def test_threshold_is_the_lowest_confidence_that_keeps_the_floor() -> None:
    # 20 promotions predicted: right from 0.99 down to 0.80, one mistake at 0.85, two below 0.8.
    confidences = [0.99 - 0.01 * i for i in range(20)]
    truth = [0] * 20
    truth[14] = 2  # the guess at 0.85 is wrong
    truth[18] = truth[19] = 2
    probabilities = _rows(*[(0, c) for c in confidences])
    chosen = choose_thresholds(probabilities, np.array(truth), LABELS3, target=0.9)
    # Top lists: 15 → 14/15, 18 → 17/18 = 0.944, 19 → 17/19 = 0.895: the longest still ≥ 0.9 ends at 0.82.
    assert chosen["promotion"] == pytest.approx(0.82)
    assert "none" not in chosen
    decided = decide(_rows((0, 0.84), (0, 0.82), (1, 0.55), (2, 0.9)), LABELS3, {"promotion": 0.83, "award": 0.6})
    assert [LABELS3[k] for k in decided] == ["promotion", "none", "none", "none"]


def test_unreachable_floor_falls_back_to_the_best_f_half() -> None:
    # Precision is flat at 0.8 whatever the confidence: a higher threshold only loses recall.
    rows = [(1, 0.99 - 0.02 * i) for i in range(20)]
    truth = np.array([1 if i % 5 else 2 for i in range(20)])
    chosen = choose_thresholds(_rows(*rows), truth, LABELS3)
    assert chosen["award"] == pytest.approx(0.99 - 0.02 * 19)  # the whole list (not silenced at 0.99)
    assert chosen["promotion"] == 1.0  # never predicted: never clears


def test_the_shipped_model_records_its_thresholds_and_their_precision() -> None:
    model = TextClassifier.load(shipped_model_path("person"))
    assert set(model.thresholds) == set(PERSON_LABELS) - {"none"}
    report = model.metadata["at_thresholds"]
    assert report["target"] == 0.95 and 0 < report["precision_min"] <= 1
    assert set(model.metadata["validation"]["by_set"]) == {"signals_dev", "signals_train"}
