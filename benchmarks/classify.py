"""Text classification benchmark: speed of the full pipeline, and macro-F1 against two baselines.

    python benchmarks/classify.py [--dev FILE] [--corpus FILE] [--texts N] [--folds K]

Speed: the shipped career-signal model inside D2's full pipeline (``upswing.detection.text.analyze_texts``:
classifier + extraction + sentiment; the classifier alone if that module is missing, which the output
says), over the dev texts repeated to N texts, in batches of 256; p95 latency of one text analysed alone;
peak memory (max RSS of the process, measured before any training happens).

Quality, each item predicted by something that never saw its label:
- ours on the dev set: stratified K-fold cross-validation (our own data in every training fold, the dev
  folds rotate) → ``macro_f1``, ``min_class_f1``, ``ece``, ``brier``;
- ours on all labelled real texts (dev + train sets), the same CV over both → ``macro_f1_cv_all`` (top guess),
  ``macro_f1_cv_train`` (the train set's items alone: text nobody here designed against),
  ``macro_f1_at_threshold_cv_all`` (the decisions at the per-type thresholds) and
  ``precision_at_threshold_min`` (the lowest event-type precision of those decisions; thresholds cross-fitted);
- extraction: title/organization field match, K-fold CV over the labelled spans of both sets → ``extraction_cv``;
- keyword rules: no training at all,
- zero-shot: nearest label description in a TF-IDF→LSA embedding fitted on unlabelled text only (the
  relation-extraction corpus and the dev texts without their labels).

Last line: one JSON object (texts_per_s, p95_ms, peak_mb, macro_f1, macro_f1_keyword, macro_f1_zeroshot, …).
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from upswing.detection.baselines import KeywordClassifier, ZeroShotClassifier
from upswing.detection.classifier import PERSON_LABELS, TextClassifier, shipped_model_path
from upswing.detection.training import (
    DEFAULT_REAL_SETS,
    Hyperparameters,
    compute_metrics,
    cross_validate,
    format_metrics,
    format_thresholds,
    own_data_files,
    read_examples,
    read_real_sets,
    threshold_report,
)

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT.parent / "shared/data/signals-dev/signals_dev.jsonl"
CORPUS = ROOT.parent / "shared/data/relation-extraction-corpus/20131104-education-degree.json"


def pipeline(model: TextClassifier) -> tuple[Callable[[Sequence[str]], object], str]:
    try:
        from upswing.detection.text import analyze_texts
    except ImportError:
        return model.predict, "classifier only (upswing.detection.text is missing)"
    return (lambda texts: analyze_texts(texts, classifier=model)), "full (classifier + extraction + sentiment)"


def max_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def speed(run: Callable[[Sequence[str]], object], texts: list[str], total: int) -> dict[str, float]:
    workload = (texts * (total // len(texts) + 1))[:total]
    run(workload[:64])  # warm caches (regexes, lazy imports)
    started = time.perf_counter()
    for start in range(0, len(workload), 256):
        run(workload[start : start + 256])
    elapsed = time.perf_counter() - started
    latencies = []
    for text in texts[:300]:
        tick = time.perf_counter()
        run([text])
        latencies.append((time.perf_counter() - tick) * 1000)
    return {
        "texts_per_s": round(total / elapsed, 1),
        "p95_ms": round(float(np.percentile(latencies, 95)), 2),
        "median_ms": round(statistics.median(latencies), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dev", type=Path, default=DEV)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "data")
    parser.add_argument("--texts", type=int, default=10_000)
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()

    labels = PERSON_LABELS
    dev = read_examples(args.dev, labels, origin="dev")
    texts = [example.text for example in dev]
    y = np.array([labels.index(example.label) for example in dev])

    tick = time.perf_counter()
    model = TextClassifier.load(shipped_model_path("person"))
    load_s = time.perf_counter() - tick
    run, mode = pipeline(model)
    figures: dict[str, Any] = {"pipeline": mode, "load_s": round(load_s, 3)}
    print(f"pipeline: {mode}; model loaded in {load_s:.3f} s")
    figures.update(speed(run, texts, args.texts))
    classifier_only = speed(model.predict, texts, args.texts)
    figures["classifier_texts_per_s"] = classifier_only["texts_per_s"]
    figures["peak_mb"] = round(max_rss_mb(), 1)
    print(f"full pipeline: {figures['texts_per_s']} texts/s over {args.texts} texts (batches of 256), "
          f"single text p95 {figures['p95_ms']} ms; classifier alone {figures['classifier_texts_per_s']} texts/s; "
          f"peak RSS {figures['peak_mb']} MB")

    keyword = KeywordClassifier().predict_labels(texts)
    keyword_metrics = compute_metrics(labels, y, np.array([labels.index(label) for label in keyword]))
    print(format_metrics(keyword_metrics, "\nkeyword rules (no training) on the dev set"))

    unlabelled = [*(_corpus_snippets(args.corpus) if args.corpus.is_file() else []), *texts]
    zero_shot = ZeroShotClassifier(unlabelled).predict_labels(texts)
    zero_metrics = compute_metrics(labels, y, np.array([labels.index(label) for label in zero_shot]))
    title = f"\nzero-shot LSA label descriptions (fitted on {len(unlabelled)} unlabelled texts)"
    print(format_metrics(zero_metrics, title))

    own = [example for path in own_data_files("person", args.data_dir) for example in read_examples(path, labels)]
    cv = cross_validate(own, dev, labels, Hyperparameters(), folds=args.folds)
    ours = compute_metrics(labels, cv.y_true, cv.probabilities.argmax(axis=1), cv.probabilities)
    print(format_metrics(ours, f"\nours: stratified {args.folds}-fold CV on the dev set ({len(own)} own examples "
                               "in every training fold)"))

    real = read_real_sets([ROOT / path for path in DEFAULT_REAL_SETS], labels)
    cv_all = cross_validate(own, real, labels, Hyperparameters(), folds=args.folds)
    all_metrics = compute_metrics(labels, cv_all.y_true, cv_all.probabilities.argmax(axis=1), cv_all.probabilities)
    print(format_metrics(all_metrics, f"\nours: stratified {args.folds}-fold CV over dev + train ({len(real)} real "
                                      "texts)"))
    on_train = np.array([origin == "signals_train" for origin in cv_all.origins])
    train_metrics = compute_metrics(labels, cv_all.y_true[on_train], cv_all.probabilities[on_train].argmax(axis=1))
    floor = threshold_report(cv_all)
    print(format_thresholds(floor))
    from upswing.detection.span_tagger import cross_validate_extraction

    extraction = cross_validate_extraction(folds=args.folds)
    print(f"extraction, {args.folds}-fold nested CV over both sets: fields {extraction['fields_match']:.4f} "
          f"(titles {extraction['title_match']:.4f}, organizations {extraction['organization_match']:.4f})")

    figures.update({
        "macro_f1_cv_all": round(all_metrics.macro_f1, 4),
        "min_class_f1_cv_all": round(min(all_metrics.f1), 4),
        "macro_f1_cv_train": round(train_metrics.macro_f1, 4),
        "macro_f1_at_threshold_cv_all": round(floor.metrics.macro_f1, 4),
        "precision_at_threshold_min": round(floor.precision_min, 4),
        "extraction_cv": round(float(extraction["fields_match"]), 4),
        "real_texts": len(real),
        "macro_f1": round(ours.macro_f1, 4),
        "min_class_f1": round(min(ours.f1), 4),
        "ece": round(ours.ece or 0.0, 4),
        "brier": round(ours.brier or 0.0, 4),
        "macro_f1_keyword": round(keyword_metrics.macro_f1, 4),
        "macro_f1_zeroshot": round(zero_metrics.macro_f1, 4),
        "dev_texts": len(dev),
    })  # fmt: skip
    print(json.dumps(figures))


def _corpus_snippets(path: Path) -> list[str]:
    mention = re.compile(r"\(\(NAM: (.*?)\)\)")
    snippets = []
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        snippets.extend(mention.sub(r"\1", evidence["snippet"]) for evidence in record["evidences"])
    return snippets


if __name__ == "__main__":
    main()
