"""Extraction accuracy: job title and organization against the hand labels of the signals dev set.

For every new_employment / promotion item, the extractor runs with the item's labelled type (so the figure
measures extraction alone, not the classifier) and its title and organization are compared with the
labelled ones, ignoring case and punctuation. The headline figure counts, over the items that have a
labelled title or organization, the labelled fields that match (``fields_match_pct``); per field and per
item figures, and a strict one where an extracted value for a field labelled null also counts as a miss,
are printed too. The rules were not fitted on these items' answers but were written while reading the dev
set; ``--show`` prints every miss. ``--extractor learned`` scores the shipped learned extractor
(``detection/span_tagger.py``) instead: it was trained on the dev and train files, so on them that figure is
in-sample (the output says so); its honest figure is the cross-validated one.

``--cv K`` adds nested K-fold cross-validation (``span_tagger.cross_validate_extraction``) of every candidate
(rules alone, CRF alone, CRF with the rules as features, per-field combinations) over the dev and train files
(or the ``--data`` files given), every item predicted by a model that never saw it; a few minutes on two
cores. ``--train`` runs that CV, then chooses, trains and ships the learned extractor
(``src/upswing/detection/model/span_tagger.crfsuite`` and ``.json``, or ``--output DIR``).

    python benchmarks/extraction.py [--data PATH ...] [--show] [--extractor rules|learned]
    python benchmarks/extraction.py --cv 5 [--seed 13]
    python benchmarks/extraction.py --train [--cv 5] [--output DIR]

Last line: one JSON object with fields_match_pct, title_match_pct, organization_match_pct, items_match_pct,
strict_items_match_pct, items, us_per_text (and ``cv`` with the cross-validated figures when asked).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from upswing.detection import span_tagger
from upswing.detection.extraction import Role, extract_role

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "signals-dev" / "signals_dev.jsonl"
Extractor = Callable[[str, str], Role]
_NON_WORD = re.compile(r"[\W_]+")


def normalize(value: str | None) -> str:
    return " ".join(_NON_WORD.sub(" ", value.casefold()).split()) if value else ""


def evaluate(rows: list[dict[str, Any]], *, show: bool = False, extractor: Extractor = extract_role) -> dict[str, Any]:
    labelled = [r for r in rows if r["label"] in ("new_employment", "promotion") and (r["title"] or r["organization"])]
    fields = hits = titles = title_hits = orgs = org_hits = items_ok = strict_ok = 0
    started = time.perf_counter()
    roles = [extractor(r["text"], r["label"]) for r in labelled]
    elapsed = time.perf_counter() - started
    for row, role in zip(labelled, roles, strict=True):
        ok = True
        strict = True
        for name, got in (("title", role.title), ("organization", role.organization)):
            gold = row[name]
            same = normalize(got) == normalize(gold)
            if gold:
                fields += 1
                hits += same
                if name == "title":
                    titles, title_hits = titles + 1, title_hits + same
                else:
                    orgs, org_hits = orgs + 1, org_hits + same
                ok = ok and same
            strict = strict and same
            if show and not same and (gold or got):
                print(f"{row['id']} {row['label']:<15} {name:<12} expected {gold!r:<45} got {got!r}")
        items_ok += ok
        strict_ok += strict
    return {
        "fields_match_pct": round(100 * hits / fields, 1),
        "title_match_pct": round(100 * title_hits / titles, 1),
        "organization_match_pct": round(100 * org_hits / orgs, 1),
        "items_match_pct": round(100 * items_ok / len(labelled), 1),
        "strict_items_match_pct": round(100 * strict_ok / len(labelled), 1),
        "items": len(labelled), "fields": fields, "fields_matched": hits, "titles": titles, "organizations": orgs,
        "us_per_text": round(1e6 * elapsed / len(labelled), 1),
    }


def learned(text: str, label: str) -> Role:
    return span_tagger.learned_role(text, label)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, action="append",
                        help="labelled JSONL (repeatable; default: signals_dev.jsonl, and for --cv/--train the dev "
                             "and train files)")
    parser.add_argument("--show", action="store_true", help="print every mismatch")
    parser.add_argument("--extractor", choices=("rules", "learned"), default="rules",
                        help="the rules (default) or the shipped learned extractor")
    parser.add_argument("--cv", type=int, default=0, metavar="K",
                        help="nested K-fold cross-validation of every candidate extractor (K >= 2)")
    parser.add_argument("--seed", type=int, default=13, help="fold seed for --cv")
    parser.add_argument("--train", action="store_true",
                        help="cross-validate (--cv, default 5), then choose, train and write the learned extractor")
    parser.add_argument("--output", type=Path, default=span_tagger.MODEL_PATH.parent,
                        help="directory for --train (default: the package's model directory)")
    args = parser.parse_args(argv)
    if args.cv == 1 or args.cv < 0:
        parser.error("--cv needs at least 2 folds")
    paths: list[Path] = args.data or [DEFAULT_DATA]
    for path in paths:
        if not path.exists():
            print(f"no data at {path}", file=sys.stderr)
            return 2
    rows = [json.loads(line) for path in paths for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    extractor: Extractor = learned if args.extractor == "learned" else extract_role
    result = evaluate(rows, show=args.show, extractor=extractor)
    result["extractor"] = args.extractor
    note = ""
    if args.extractor == "learned":
        trained_on = {entry["sha256"] for entry in span_tagger.load_shipped().metadata["training_data"]}
        result["in_sample"] = any(span_tagger.data_sha256([p]) in trained_on for p in paths)
        note = " (IN-SAMPLE: the shipped model was trained on this data)" if result["in_sample"] else ""
    print(f"{args.extractor}{note}: {result['items']} items with a labelled title or organization, "
          f"{result['fields']} labelled fields: "
          f"{result['fields_matched']} match ({result['fields_match_pct']}%); titles {result['title_match_pct']}% "
          f"of {result['titles']}, organizations {result['organization_match_pct']}% of {result['organizations']}; "
          f"items with every labelled field right {result['items_match_pct']}%, strict (nulls too) "
          f"{result['strict_items_match_pct']}%")
    folds = args.cv or (5 if args.train else 0)
    if folds:
        cv_data = args.data or list(span_tagger.DEFAULT_DATA)
        started = time.perf_counter()
        cv = span_tagger.cross_validate_extraction(
            folds=folds, seed=args.seed, data=cv_data,
            progress=lambda message: print(f"  {message}", file=sys.stderr, flush=True))
        print_cv(cv, time.perf_counter() - started)
        result["cv"] = {key: cv[key] for key in ("fields_match", "title_match", "organization_match", "by_source",
                                                   "candidates", "protocol")}
        result["cv"]["by_candidate"] = {name: {"all": figures["fields_match"],
                                               **{s: f["fields_match"] for s, f in figures["by_source"].items()}}
                                        for name, figures in cv["candidates_detail"].items()}
        if args.train:
            trained = span_tagger.train_span_tagger(
                cv_data, output=args.output, folds=folds, seed=args.seed, cv=cv,
                progress=lambda message: print(f"  {message}", file=sys.stderr, flush=True))
            meta = trained.metadata
            print(f"trained {trained.model_path} ({meta['counts']['items']} items; CRF {meta['crf']['family']}, "
                  f"c1={meta['crf']['c1']}, c2={meta['crf']['c2']}; title {meta['combination']['title']}, "
                  f"organization {meta['combination']['organization']})")
            result["trained"] = {"model": str(trained.model_path), "crf": meta["crf"],
                                 "combination": meta["combination"]}
    print(json.dumps(result))
    return 0


def print_cv(cv: dict[str, Any], seconds: float) -> None:
    sources = sorted(cv["by_source"])
    print(f"\n{cv['protocol']} ({seconds:.0f} s)")
    header = (f"{'candidate':<26}{'all':>8}" + "".join(f"{s:>8}" for s in sources)
              + f"{'titles':>8}{'orgs':>8}{'nulls answered':>16}")
    print(header)
    for name, figures in cv["candidates_detail"].items():
        cells = "".join(f"{100 * figures['by_source'][s]['fields_match']:>8.1f}" for s in sources)
        print(f"{name:<26}{100 * figures['fields_match']:>8.1f}{cells}{100 * figures['title_match']:>8.1f}"
              f"{100 * figures['organization_match']:>8.1f}"
              f"{figures['null_fields_answered']:>9} of {figures['null_fields']}")
    print("(% of labelled fields matched; 'selected' is the per-field choice made inside each outer fold; "
          "nulls answered: fields labelled null that got a value anyway)")


if __name__ == "__main__":
    raise SystemExit(main())
