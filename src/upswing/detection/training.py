"""Training and evaluating the text classifiers.

Protocol (the figures in docs/detection.md come from here):

- **person** (career signals): trained on our own examples (``data/signals/*.jsonl``) plus the labelled real
  texts (the dev set and the train set, ``DEFAULT_REAL_SETS``). Figures on the real texts are stratified
  k-fold cross-validated: each item is predicted by a model trained on all our own examples and the other
  folds, never on the item itself. The temperature that calibrates confidences is fitted on those
  out-of-fold scores (cross-fitted: the temperature applied to fold k is fitted on the other folds' scores),
  and so are the per-type confidence thresholds (``choose_thresholds``: the lowest confidence at which a
  type's out-of-fold precision is still ≥ 0.95). Precision at the thresholds is reported cross-fitted too.
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
    NO_SIGNAL,
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
    real_weight: float = 3.0  # weight of a real (dev, train or feedback) text …
    own_weight: float = 0.3  # … and of one of our own (templated, hand-written) examples
    none_weight: float = 1.0  # total weight of the "none" class relative to each other class
    features: FeatureConfig = field(default_factory=lambda: FeatureConfig(cues=True))

    def to_json(self) -> dict[str, Any]:
        return {"c": self.c, "real_weight": self.real_weight, "own_weight": self.own_weight,
                "none_weight": self.none_weight, "features": self.features.to_json()}


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
    model = LogisticRegression(C=hyper.c, max_iter=3000, tol=1e-4)
    model.fit(matrix, y, sample_weight=sample_weights(examples, labels, hyper))
    coef = np.zeros((len(labels), featurizer.n_features))
    intercept = np.full(len(labels), -30.0)  # a label never seen in training is never predicted
    coef[model.classes_] = model.coef_ if len(model.classes_) > 2 else np.vstack([-model.coef_, model.coef_])
    intercept[model.classes_] = (
        model.intercept_ if len(model.classes_) > 2 else np.array([-model.intercept_[0], model.intercept_[0]])
    )
    return TextClassifier(labels, featurizer, coef, intercept, temperature=temperature)


def sample_weights(examples: Sequence[Example], labels: Sequence[str], hyper: Hyperparameters) -> np.ndarray:
    """Each example's training weight: real texts vs our own, then classes balanced by total weight (so a label
    with many templated examples does not dominate), then the extra weight on "none"."""
    y = np.array([labels.index(example.label) for example in examples])
    weights = np.array([hyper.own_weight if example.origin == "own" else hyper.real_weight for example in examples])
    class_weight = np.zeros(len(labels))
    np.add.at(class_weight, y, weights)
    weighted = weights * (weights.sum() / (len(set(y.tolist())) * class_weight[y]))
    if "none" in labels:
        weighted[y == labels.index("none")] *= hyper.none_weight
    return np.asarray(weighted, dtype=float)


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
    fold_of: np.ndarray  # the fold each item was predicted in
    origins: list[str]  # which labelled set each item came from


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
    """Stratified k-fold CV over ``validated``; ``own`` examples are in every training fold.

    Folds are stratified by label and by origin (which labelled file an item came from), so every fold
    holds its share of each set's style.
    """
    y = np.array([labels.index(example.label) for example in validated])
    strata = np.array([f"{example.label}|{example.origin}" for example in validated])
    logits = np.zeros((len(validated), len(labels)))
    fold_of = np.zeros(len(validated), dtype=int)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for k, (train_idx, test_idx) in enumerate(splitter.split(np.zeros(len(y)), strata)):
        training = [*own, *(validated[i] for i in train_idx)]
        model = fit_classifier(training, labels, hyper)
        logits[test_idx] = model.decision_function([validated[i].text for i in test_idx])
        fold_of[test_idx] = k
        if progress is not None:
            progress(1)
    return out_of_fold(labels, y, logits, folds, fold_of, [example.origin for example in validated])


def out_of_fold(labels: Sequence[str], y: np.ndarray, logits: np.ndarray, folds: int, fold_of: np.ndarray,
                origins: list[str]) -> CrossValidation:
    """Out-of-fold scores calibrated cross-fitted: each fold's temperature is fitted on the other folds."""
    probabilities = np.zeros_like(logits)
    for k in range(folds):
        inside = fold_of == k
        probabilities[inside] = softmax(logits[inside] / fit_temperature(logits[~inside], y[~inside]))
    return CrossValidation(tuple(labels), y, logits, probabilities, fit_temperature(logits, y), folds, fold_of,
                           origins)


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


# --------------------------------------------------------------------------------------------------
# The precision floor: per-type confidence thresholds
# --------------------------------------------------------------------------------------------------

#: A text becomes a signal only when its type's precision at that confidence is at least this.
PRECISION_TARGET = 0.95


def choose_thresholds(
    probabilities: np.ndarray, y_true: np.ndarray, labels: Sequence[str], *, target: float = PRECISION_TARGET
) -> dict[str, float]:
    """Per event type, the lowest confidence at which the predictions of that type are still ≥ ``target``
    precise (ranked by confidence, the longest top list that reaches it; a top list shorter than a fifth of the
    type's predictions, or than ten, is too small to vouch for anything). Where no top list reaches it, the
    threshold that maximizes F0.5 (precision weighted over recall): the floor is then missed, and the report
    says so, but a type whose precision does not rise with confidence is not silenced for nothing."""
    predicted = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    thresholds: dict[str, float] = {}
    for k, label in enumerate(labels):
        if label == NO_SIGNAL:
            continue
        mine = predicted == k
        if not mine.any():
            thresholds[label] = 1.0
            continue
        order = np.argsort(-confidence[mine], kind="stable")
        ranked = confidence[mine][order]
        correct = y_true[mine][order] == k
        precision = np.cumsum(correct) / np.arange(1, len(correct) + 1)
        reaching = np.flatnonzero(precision >= target)
        reaching = reaching[reaching + 1 >= min(len(ranked), max(10, len(ranked) // 5))]
        if len(reaching):
            thresholds[label] = float(ranked[reaching.max()])
            continue
        recall = np.cumsum(correct) / max(1, int((y_true == k).sum()))
        f_half = np.divide(1.25 * precision * recall, 0.25 * precision + recall,
                           out=np.zeros_like(precision), where=(precision + recall) > 0)
        thresholds[label] = float(ranked[int(f_half.argmax())])
    return thresholds


def decide(probabilities: np.ndarray, labels: Sequence[str], thresholds: dict[str, float]) -> np.ndarray:
    """The product's decision per row: the top label if it clears its threshold, else ``none``."""
    best: np.ndarray = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    floor = np.array([thresholds.get(label, 0.0) for label in labels])
    decided = best.copy()
    if NO_SIGNAL in labels:
        decided[confidence < floor[best]] = list(labels).index(NO_SIGNAL)
    return decided


@dataclass
class ThresholdReport:
    """The decisions at the thresholds, measured cross-fitted: each fold's thresholds come from the other folds."""

    target: float
    thresholds: dict[str, float]  # chosen on every out-of-fold score (what the final model uses)
    metrics: Metrics  # of the decided labels
    precision_min: float  # lowest precision over the event types

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "thresholds": {label: round(value, 4) for label, value in self.thresholds.items()},
            "macro_f1": round(self.metrics.macro_f1, 4),
            "precision_min": round(self.precision_min, 4),
            "per_class": self.metrics.to_json()["per_class"],
        }


def threshold_report(cv: CrossValidation, *, target: float = PRECISION_TARGET) -> ThresholdReport:
    labels = cv.labels
    decided = np.zeros(len(cv.y_true), dtype=int)
    for k in range(cv.folds):
        inside = cv.fold_of == k
        chosen = choose_thresholds(cv.probabilities[~inside], cv.y_true[~inside], labels, target=target)
        decided[inside] = decide(cv.probabilities[inside], labels, chosen)
    metrics = compute_metrics(labels, cv.y_true, decided)
    events = [k for k, label in enumerate(labels) if label != NO_SIGNAL and metrics.support[k] > 0]
    precision_min = min((metrics.precision[k] for k in events), default=0.0)
    return ThresholdReport(target, choose_thresholds(cv.probabilities, cv.y_true, labels, target=target), metrics,
                           precision_min)


def format_thresholds(report: ThresholdReport) -> str:
    """The thresholds and, per type, precision and recall of the decisions they make (cross-fitted)."""
    width = max(len(label) for label in report.metrics.labels)
    lines = [f"precision floor {report.target:.2f}: decisions at per-type thresholds (cross-fitted)",
             f"{'label':<{width}}  threshold  precision  recall     f1  support"]
    for k, label in enumerate(report.metrics.labels):
        threshold = report.thresholds.get(label)
        shown = "" if threshold is None else f"{threshold:.3f}"
        lines.append(f"{label:<{width}}  {shown:>9}  {report.metrics.precision[k]:9.3f}  "
                     f"{report.metrics.recall[k]:6.3f}  {report.metrics.f1[k]:5.3f}  {report.metrics.support[k]:7d}")
    lines.append(f"macro-F1 of the decisions {report.metrics.macro_f1:.4f}   lowest event-type precision "
                 f"{report.precision_min:.4f}")
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


def default_validation_files(kind: str, data_dir: Path) -> list[Path]:
    """Person: the labelled real texts next to the repository (dev + train sets); company: our held-out file."""
    if kind == "person":
        return list(DEFAULT_REAL_SETS)
    return [data_dir / "intent" / "validation.jsonl"]


#: The labelled real texts (written by people outside this project; see each folder's README).
DEFAULT_REAL_SETS: tuple[Path, ...] = (
    Path("../shared/data/signals-dev/signals_dev.jsonl"),
    Path("../shared/data/signals-train/signals_train.jsonl"),
)


def read_real_sets(paths: Sequence[Path], labels: Sequence[str]) -> list[Example]:
    """Every labelled real text, its origin the file's stem (weights treat any origin but ``own`` as real)."""
    return [example for path in paths for example in read_examples(path, labels, origin=path.stem)]


@dataclass
class TrainResult:
    kind: str
    version: str
    path: Path
    metrics: Metrics
    protocol: str
    thresholds: ThresholdReport | None
    promoted: bool
    reason: str
    baseline_macro_f1: float | None
    counts: dict[str, int]


def validation_protocol(kind: str, folds: int) -> str:
    if kind == "person":
        return (f"stratified {folds}-fold CV over the labelled real texts (by label and set), own data in every "
                "training fold, seed 13")
    return "held-out validation set, never trained on"


def train_model(
    kind: str,
    *,
    data_dir: Path,
    validation_paths: Sequence[Path],
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
    validated = read_real_sets(validation_paths, labels)
    held_out = {normalized_text(example.text) for example in validated}
    extra = [
        Example(text, label, "feedback") for text, label in feedback if normalized_text(text) not in held_out
    ]
    bad = [label for _, label in feedback if label not in labels]
    if bad:
        raise DataError(f"feedback has labels the {kind} model does not know: {sorted(set(bad))}")
    protocol = validation_protocol(kind, folds)
    validation_sha = data_sha256(validation_paths)
    thresholds: ThresholdReport | None = None

    if kind == "person":
        # The validated items are real texts: they count as real, like feedback, and are trained on in the end.
        cv = cross_validate([*own, *extra], validated, labels, hyper, folds=folds, progress=progress)
        metrics = compute_metrics(labels, cv.y_true, cv.probabilities.argmax(axis=1), cv.probabilities)
        thresholds = threshold_report(cv)
        model = fit_classifier([*own, *extra, *validated], labels, hyper, temperature=cv.temperature)
        model.thresholds = dict(thresholds.thresholds)
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

    by_set = _macro_f1_by_set(cv, labels) if kind == "person" else None
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
                "file": " + ".join(path.name for path in validation_paths),
                "by_set": by_set,
                "data_sha256": validation_sha,
                "folds": folds if kind == "person" else None,
                **metrics.to_json(),
            },
            **({"at_thresholds": thresholds.to_json()} if thresholds is not None else {}),
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
    return TrainResult(kind, name, entry.path, metrics, protocol, thresholds, promoted, reason, baseline,
                       {"own": len(own), "feedback": len(extra), "validation": len(validated)})  # fmt: skip


def _macro_f1_by_set(cv: CrossValidation, labels: Sequence[str]) -> dict[str, float]:
    """Out-of-fold macro-F1 of each labelled set on its own (the sets differ in style)."""
    origins = np.array(cv.origins)
    predicted = cv.probabilities.argmax(axis=1)
    return {origin: round(compute_metrics(labels, cv.y_true[origins == origin],
                                          predicted[origins == origin]).macro_f1, 4)
            for origin in dict.fromkeys(cv.origins)}


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
