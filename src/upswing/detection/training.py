"""Training and evaluating the text classifiers.

Protocol (the figures in docs/detection.md come from here):

- **person** (career signals): trained on our own examples (``data/signals/*.jsonl``) plus the labelled dev
  set. Figures on the dev set are stratified k-fold cross-validated: each dev item is predicted by a model
  trained on all our own examples and the other folds of the dev set, never on the item itself. The
  temperature that calibrates confidences is fitted on those out-of-fold scores (cross-fitted: the
  temperature applied to fold k is fitted on the other folds' scores).
- **company** (business intent): trained on ``data/intent/train*.jsonl``; validated on the hand-written
  ``data/intent/validation.jsonl``, which is never trained on. Its temperature comes from a 5-fold CV inside
  the training set.

A new model is promoted (becomes the registry's current) only if its validation macro-F1 is not below the
current model's, measured the same way.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.model_selection import StratifiedKFold  # type: ignore[import-untyped]

from upswing.detection.classifier import (
    COMPANY_LABELS,
    PERSON_LABELS,
    FeatureConfig,
    Featurizer,
    TextClassifier,
    softmax,
)

__all__ = [
    "DataError",
    "Example",
    "Hyperparameters",
    "Metrics",
    "compute_metrics",
    "cross_validate",
    "fit_classifier",
    "fit_temperature",
    "format_metrics",
    "read_examples",
]

LABELS_BY_KIND: dict[str, tuple[str, ...]] = {"person": PERSON_LABELS, "company": COMPANY_LABELS}


class DataError(ValueError):
    """A training or evaluation file is missing or has a bad row (the message names file and row)."""


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    origin: str = "own"  # own | dev | feedback | validation


@dataclass(frozen=True)
class Hyperparameters:
    """Chosen by cross-validation on the dev set (see docs/detection.md), never by training-set scores."""

    c: float = 10.0
    real_weight: float = 3.0  # weight of a real (dev or feedback) text relative to one of our own
    none_weight: float = 1.0  # total weight of the "none" class relative to each other class
    features: FeatureConfig = field(default_factory=FeatureConfig)

    def to_json(self) -> dict[str, Any]:
        return {"c": self.c, "real_weight": self.real_weight, "none_weight": self.none_weight,
                "features": self.features.to_json()}


# --------------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------------


def read_examples(path: Path, labels: Sequence[str], *, origin: str = "own") -> list[Example]:
    """Read a JSONL file of ``{"text": …, "label": …}`` rows; any bad row fails the whole file."""
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    allowed = set(labels)
    examples: list[Example] = []
    errors: list[str] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                errors.append(f"{path}: row {number}: not valid JSON ({exc.msg})")
                continue
            if not isinstance(row, dict):
                errors.append(f"{path}: row {number}: expected a JSON object")
                continue
            text, label = row.get("text"), row.get("label")
            if not isinstance(text, str) or not text.strip():
                errors.append(f"{path}: row {number}: field 'text' must be a non-empty string")
            elif label not in allowed:
                errors.append(f"{path}: row {number}: field 'label' is {label!r}, expected one of {sorted(allowed)}")
            else:
                examples.append(Example(text, label, origin))
    if errors:
        shown = "\n".join(errors[:20]) + (f"\n… and {len(errors) - 20} more" if len(errors) > 20 else "")
        raise DataError(f"{len(errors)} bad row(s):\n{shown}")
    if not examples:
        raise DataError(f"{path}: no examples")
    return examples


def data_sha256(paths: Iterable[Path], extra: Sequence[Example] = ()) -> str:
    """One hash over the training files (in name order) and any examples not read from a file."""
    digest = hashlib.sha256()
    for path in sorted(paths, key=lambda p: p.name):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    for example in extra:
        digest.update(json.dumps([example.text, example.label, example.origin]).encode())
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------------
# Fitting
# --------------------------------------------------------------------------------------------------


def fit_classifier(
    examples: Sequence[Example], labels: Sequence[str], hyper: Hyperparameters, *, temperature: float = 1.0
) -> TextClassifier:
    """Fit the featurizer and a class-balanced multinomial logistic regression on ``examples``."""
    present = {example.label for example in examples}
    if len(present) < 2:
        raise DataError("training needs examples of at least two labels")
    texts = [example.text for example in examples]
    featurizer = Featurizer.fit(texts, hyper.features)
    matrix = featurizer.transform(texts)
    y = np.array([labels.index(example.label) for example in examples])
    weights = np.array([1.0 if example.origin == "own" else hyper.real_weight for example in examples])
    # Balance classes by total weight, so a label with many templated examples does not dominate.
    class_weight = np.zeros(len(labels))
    np.add.at(class_weight, y, weights)
    sample_weight = weights * (weights.sum() / (len(present) * class_weight[y]))
    if "none" in labels:
        sample_weight[y == labels.index("none")] *= hyper.none_weight
    model = LogisticRegression(C=hyper.c, max_iter=3000, tol=1e-4)
    model.fit(matrix, y, sample_weight=sample_weight)
    coef = np.zeros((len(labels), featurizer.n_features))
    intercept = np.full(len(labels), -30.0)  # a label never seen in training is never predicted
    coef[model.classes_] = model.coef_ if len(model.classes_) > 2 else np.vstack([-model.coef_, model.coef_])
    intercept[model.classes_] = (
        model.intercept_ if len(model.classes_) > 2 else np.array([-model.intercept_[0], model.intercept_[0]])
    )
    return TextClassifier(labels, featurizer, coef, intercept, temperature=temperature)


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature that minimizes the negative log-likelihood of ``y`` (a 1-D search over a log grid)."""
    best_t, best_nll = 1.0, np.inf
    for t in np.exp(np.linspace(np.log(0.05), np.log(20.0), 241)):
        probabilities = softmax(logits / t)
        nll = -float(np.mean(np.log(np.clip(probabilities[np.arange(len(y)), y], 1e-12, None))))
        if nll < best_nll:
            best_t, best_nll = float(t), nll
    return best_t


# --------------------------------------------------------------------------------------------------
# Cross-validation
# --------------------------------------------------------------------------------------------------


@dataclass
class CrossValidation:
    """Out-of-fold results on the validated items (each predicted by a model that never saw it)."""

    labels: tuple[str, ...]
    y_true: np.ndarray
    logits: np.ndarray
    probabilities: np.ndarray  # calibrated with cross-fitted temperatures
    temperature: float  # fitted on all out-of-fold logits (for the final model)
    folds: int


def cross_validate(
    own: Sequence[Example],
    validated: Sequence[Example],
    labels: Sequence[str],
    hyper: Hyperparameters,
    *,
    folds: int = 5,
    seed: int = 13,
    progress: Callable[[int], None] | None = None,
) -> CrossValidation:
    """Stratified k-fold CV over ``validated``; ``own`` examples are in every training fold."""
    y = np.array([labels.index(example.label) for example in validated])
    logits = np.zeros((len(validated), len(labels)))
    fold_of = np.zeros(len(validated), dtype=int)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for k, (train_idx, test_idx) in enumerate(splitter.split(np.zeros(len(y)), y)):
        training = [*own, *(validated[i] for i in train_idx)]
        model = fit_classifier(training, labels, hyper)
        logits[test_idx] = model.decision_function([validated[i].text for i in test_idx])
        fold_of[test_idx] = k
        if progress is not None:
            progress(1)
    probabilities = np.zeros_like(logits)
    for k in range(folds):
        inside = fold_of == k
        temperature = fit_temperature(logits[~inside], y[~inside])
        probabilities[inside] = softmax(logits[inside] / temperature)
    return CrossValidation(tuple(labels), y, logits, probabilities, fit_temperature(logits, y), folds)


# --------------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------------


@dataclass
class Metrics:
    labels: tuple[str, ...]
    precision: list[float]
    recall: list[float]
    f1: list[float]
    support: list[int]
    macro_f1: float
    accuracy: float
    confusion: list[list[int]]  # rows: true label, columns: predicted label
    ece: float | None = None
    brier: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "macro_f1": round(self.macro_f1, 4),
            "accuracy": round(self.accuracy, 4),
            "ece": None if self.ece is None else round(self.ece, 4),
            "brier": None if self.brier is None else round(self.brier, 4),
            "per_class": {
                label: {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "support": s}
                for label, p, r, f, s in zip(
                    self.labels, self.precision, self.recall, self.f1, self.support, strict=True
                )
            },
            "confusion": self.confusion,
        }


def compute_metrics(
    labels: Sequence[str], y_true: np.ndarray, y_pred: np.ndarray, probabilities: np.ndarray | None = None
) -> Metrics:
    n = len(labels)
    confusion = np.zeros((n, n), dtype=int)
    np.add.at(confusion, (y_true, y_pred), 1)
    true_positive = np.diag(confusion).astype(float)
    predicted = confusion.sum(axis=0)
    actual = confusion.sum(axis=1)
    precision = np.divide(true_positive, predicted, out=np.zeros(n), where=predicted > 0)
    recall = np.divide(true_positive, actual, out=np.zeros(n), where=actual > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(n), where=(precision + recall) > 0)
    present = actual > 0
    ece = brier = None
    if probabilities is not None:
        ece, brier = calibration(probabilities, y_true)
    return Metrics(
        labels=tuple(labels), precision=precision.tolist(), recall=recall.tolist(), f1=f1.tolist(),
        support=actual.tolist(), macro_f1=float(f1[present].mean()) if present.any() else 0.0,
        accuracy=float(true_positive.sum() / max(1, len(y_true))), confusion=confusion.tolist(), ece=ece, brier=brier,
    )  # fmt: skip


def calibration(probabilities: np.ndarray, y_true: np.ndarray, bins: int = 10) -> tuple[float, float]:
    """Expected calibration error of the top label (10 equal-width bins) and the multi-class Brier score."""
    confidence = probabilities.max(axis=1)
    correct = (probabilities.argmax(axis=1) == y_true).astype(float)
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    ece = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            ece += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    onehot = np.zeros_like(probabilities)
    onehot[np.arange(len(y_true)), y_true] = 1.0
    brier = float(np.mean(np.sum((probabilities - onehot) ** 2, axis=1)))
    return float(ece), brier


def format_metrics(metrics: Metrics, title: str) -> str:
    """Per-class precision/recall/F1, macro-F1, calibration and the confusion matrix as plain text."""
    width = max(len(label) for label in metrics.labels)
    lines = [title, f"{'label':<{width}}  precision  recall     f1  support"]
    for label, p, r, f, s in zip(
        metrics.labels, metrics.precision, metrics.recall, metrics.f1, metrics.support, strict=True
    ):
        lines.append(f"{label:<{width}}  {p:9.3f}  {r:6.3f}  {f:5.3f}  {s:7d}")
    lines.append(f"macro-F1 {metrics.macro_f1:.4f}   accuracy {metrics.accuracy:.4f}   n={sum(metrics.support)}")
    if metrics.ece is not None and metrics.brier is not None:
        lines.append(f"calibration: ECE {metrics.ece:.4f}   Brier {metrics.brier:.4f}")
    short = [label[:6] for label in metrics.labels]
    lines.append("confusion matrix (rows: true, columns: predicted)")
    lines.append(" " * (width + 2) + " ".join(f"{s:>6}" for s in short))
    for label, row in zip(metrics.labels, metrics.confusion, strict=True):
        lines.append(f"{label:<{width}}  " + " ".join(f"{v:>6d}" for v in row))
    return "\n".join(lines)


def cross_fitted_probabilities(logits: np.ndarray, y: np.ndarray, *, folds: int = 5, seed: int = 13) -> np.ndarray:
    """Calibrated probabilities where each item's temperature was fitted on the other items only."""
    probabilities = np.zeros_like(logits)
    counts = np.bincount(y)
    splits = max(2, min(folds, int(counts[counts > 0].min()) if len(counts) else 2))
    splitter = StratifiedKFold(n_splits=splits, shuffle=True, random_state=seed)
    for fit_idx, apply_idx in splitter.split(np.zeros(len(y)), y):
        probabilities[apply_idx] = softmax(logits[apply_idx] / fit_temperature(logits[fit_idx], y[fit_idx]))
    return probabilities


# --------------------------------------------------------------------------------------------------
# Training runs (what ``upswing model train`` does)
# --------------------------------------------------------------------------------------------------


def normalized_text(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text.casefold()).split())


def own_data_files(kind: str, data_dir: Path) -> list[Path]:
    """Our own training files: ``data/signals/train_*.jsonl`` (person) or ``data/intent/train_*.jsonl``."""
    folder = data_dir / ("signals" if kind == "person" else "intent")
    files = sorted(folder.glob("train_*.jsonl"))
    if not files:
        raise DataError(f"no training files {folder}/train_*.jsonl (run from the repository root, or pass --data-dir)")
    return files


def default_validation_file(kind: str, data_dir: Path) -> Path:
    """Person: the labelled dev set next to the repository; company: our hand-written held-out file."""
    if kind == "person":
        return DEFAULT_DEV_SET
    return data_dir / "intent" / "validation.jsonl"


DEFAULT_DEV_SET = Path("../shared/data/signals-dev/signals_dev.jsonl")


@dataclass
class TrainResult:
    kind: str
    version: str
    path: Path
    metrics: Metrics
    protocol: str
    promoted: bool
    reason: str
    baseline_macro_f1: float | None
    counts: dict[str, int]


def validation_protocol(kind: str, folds: int) -> str:
    if kind == "person":
        return f"stratified {folds}-fold CV on the validation set, own data in every training fold, seed 13"
    return "held-out validation set, never trained on"


def train_model(
    kind: str,
    *,
    data_dir: Path,
    validation_path: Path,
    feedback: Sequence[tuple[str, str]] = (),
    root: Path | None = None,
    folds: int = 5,
    hyper: Hyperparameters | None = None,
    version: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> TrainResult:
    """Train, validate, register as a new version, and promote it if it does not lose validation macro-F1.

    Feedback examples whose text is also in the validation set are dropped (they would leak into it).
    """
    # Imported here: the registry reads settings; the fitting functions above do not need them.
    from upswing.detection import registry

    labels = LABELS_BY_KIND[kind]
    hyper = hyper or Hyperparameters()
    files = own_data_files(kind, data_dir)
    own = [example for path in files for example in read_examples(path, labels)]
    validated = read_examples(validation_path, labels, origin="validation")
    held_out = {normalized_text(example.text) for example in validated}
    extra = [
        Example(text, label, "feedback") for text, label in feedback if normalized_text(text) not in held_out
    ]
    bad = [label for _, label in feedback if label not in labels]
    if bad:
        raise DataError(f"feedback has labels the {kind} model does not know: {sorted(set(bad))}")
    protocol = validation_protocol(kind, folds)
    validation_sha = data_sha256([validation_path])

    if kind == "person":
        # The validation (dev) items are real texts: they count as real, like feedback.
        validated = [Example(e.text, e.label, "dev") for e in validated]
        cv = cross_validate([*own, *extra], validated, labels, hyper, folds=folds, progress=progress)
        metrics = compute_metrics(labels, cv.y_true, cv.probabilities.argmax(axis=1), cv.probabilities)
        model = fit_classifier([*own, *extra, *validated], labels, hyper, temperature=cv.temperature)
        trained_on = len(own) + len(extra) + len(validated)
    else:
        model = fit_classifier([*own, *extra], labels, hyper)
        y = np.array([labels.index(e.label) for e in validated])
        logits = model.decision_function([e.text for e in validated])
        model.temperature = fit_temperature(logits, y)
        probabilities = cross_fitted_probabilities(logits, y)
        metrics = compute_metrics(labels, y, logits.argmax(axis=1), probabilities)
        trained_on = len(own) + len(extra)
        if progress is not None:
            progress(folds)

    model.metadata.update(
        {
            "kind": kind,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "training_data_sha256": data_sha256(files, extra),
            "training_files": [path.name for path in files],
            "training_counts": {
                "own": len(own),
                "feedback": len(extra),
                "validation_items_trained_on": trained_on - len(own) - len(extra),
                "total": trained_on,
            },
            "hyperparameters": hyper.to_json(),
            "validation": {
                "protocol": protocol,
                "file": validation_path.name,
                "data_sha256": validation_sha,
                "folds": folds if kind == "person" else None,
                **metrics.to_json(),
            },
        }
    )
    baseline, reason = _baseline(kind, protocol, validation_sha, validated, labels, root)
    name = version or registry.new_version_name(kind)
    entry = registry.register(model, kind, version=name, root=root)
    promoted = False
    if baseline is None:
        reason = f"not promoted: {reason}; promote it by hand with `upswing model promote {name} --kind {kind}`"
    elif metrics.macro_f1 + 1e-9 >= baseline:
        registry.promote(kind, name, root)
        promoted = True
        reason = (f"promoted: validation macro-F1 {metrics.macro_f1:.4f} ≥ current {baseline:.4f}"
                  if baseline > float("-inf") else "promoted: there was no current model")
    else:
        reason = (
            f"not promoted: validation macro-F1 {metrics.macro_f1:.4f} < current {baseline:.4f}; "
            f"the new version is kept as {name}"
        )
    return TrainResult(kind, name, entry.path, metrics, protocol, promoted, reason, baseline,
                       {"own": len(own), "feedback": len(extra), "validation": len(validated)})  # fmt: skip


def _baseline(
    kind: str, protocol: str, validation_sha: str, validated: Sequence[Example], labels: Sequence[str],
    root: Path | None,
) -> tuple[float | None, str]:
    """The current model's validation macro-F1, measured the same way, or ``None`` and why not."""
    from upswing.detection import registry

    path = registry.current_model_path(kind, root)
    if not path.is_file():  # bootstrapping: nothing to compare with (the shipped model is being built)
        return float("-inf"), ""
    current = TextClassifier.load(path)
    if kind == "company":
        # The company validation file is never trained on, so the current model can simply be scored on it.
        y = np.array([labels.index(e.label) for e in validated])
        predicted = current.decision_function([e.text for e in validated]).argmax(axis=1)
        return compute_metrics(labels, y, predicted).macro_f1, ""
    recorded = current.metadata.get("validation") or {}
    if recorded.get("data_sha256") != validation_sha or recorded.get("protocol") != protocol:
        return None, ("the current model was validated on a different validation set or protocol, so the two "
                      "cannot be compared")
    return float(recorded["macro_f1"]), ""
