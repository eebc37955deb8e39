"""Holdout experiment simulation: do the analysis' 95 % intervals cover the true lift, and is a null lift kept null?

    python benchmarks/holdout_simulation.py [--leads N] [--replications R] [--long-replications L] [--seed S]

Each replication simulates one experiment: N leads in 4 portfolios × 3 balance bands (12 strata), 10 % control
assigned inside each stratum (exact to rounding), one signal type per lead among 4 with true relative lifts
0, 20, 40 and 30 % on base conversion rates of 5, 7, 8 and 10 % (scaled by a portfolio factor of mean 1), payments
inside the 90-day window for converting leads, dollars recovered lognormal. For each replication and type the
Newcombe interval of treatment − control conversion comes from ``upswing.experiment.analysis.compare_proportions``.

Reported: pooled coverage of the true difference (4 types × R replications), per-type coverage and power (interval
excludes 0), the share of zero-lift replications called significant, and the time of one end-to-end ``analyze()``
of a replication. The long run (L replications, 1,000 by default) is done when the first run projects it under
two minutes. Progress goes to stderr; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from typing import Any

import numpy as np

from upswing.experiment.analysis import LeadResult, analyze, compare_proportions

SIGNAL_TYPES = ("new_employment", "promotion", "business_launch", "property_sale")
TRUE_LIFTS = np.array([0.0, 0.2, 0.4, 0.3])
BASE_RATES = np.array([0.05, 0.07, 0.08, 0.10])
PORTFOLIO_FACTORS = np.array([0.8, 0.9, 1.1, 1.2])  # portfolios are equally likely, so the factor averages 1
CONTROL_SHARE = 0.1
CONVERSION_DAYS = 90
FOLLOWUP_DAYS = 120.0
LONG_RUN_BUDGET_S = 120.0


def simulate(rng: np.random.Generator, leads: int) -> dict[str, np.ndarray]:
    """One experiment's leads as arrays (vectorised: a replication of 20,000 leads takes milliseconds)."""
    portfolio = rng.integers(0, 4, leads)
    stratum = portfolio * 3 + rng.integers(0, 3, leads)
    # Stratified assignment: shuffle inside each stratum, the first round(10 % of its size) go to control.
    order = np.lexsort((rng.random(leads), stratum))
    sizes = np.bincount(stratum, minlength=12)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    control = np.zeros(leads, dtype=bool)
    control[order] = (np.arange(leads) - starts[stratum[order]]) < np.round(CONTROL_SHARE * sizes)[stratum[order]]
    signal_type = rng.integers(0, len(SIGNAL_TYPES), leads)
    lift = np.where(control, 0.0, TRUE_LIFTS[signal_type])
    converts = rng.random(leads) < BASE_RATES[signal_type] * PORTFOLIO_FACTORS[portfolio] * (1.0 + lift)
    window_share = 1 - math.exp(-CONVERSION_DAYS / 30)  # exponential(mean 30 days) truncated to the window
    paid_day = np.where(converts, -30 * np.log1p(-rng.random(leads) * window_share), np.nan)
    recovered = np.where(converts, rng.lognormal(math.log(800), 1.0, leads), 0.0)
    exposed = ~control & (rng.random(leads) < 0.85)
    return {"stratum": stratum, "control": control, "signal_type": signal_type, "paid_day": paid_day,
            "recovered": recovered, "exposed": exposed}


def run(replications: int, leads: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    true_differences = BASE_RATES * TRUE_LIFTS
    covered = np.zeros((replications, len(SIGNAL_TYPES)), dtype=bool)
    excludes_zero = np.zeros_like(covered)
    widths = np.zeros(covered.shape)
    strata_exact = True
    started = time.perf_counter()
    for replication in range(replications):
        experiment = simulate(rng, leads)
        sizes = np.bincount(experiment["stratum"], minlength=12)
        control_sizes = np.bincount(experiment["stratum"][experiment["control"]], minlength=12)
        strata_exact &= bool((control_sizes == np.round(CONTROL_SHARE * sizes)).all())
        converted = ~np.isnan(experiment["paid_day"])
        for type_index in range(len(SIGNAL_TYPES)):
            of_type = experiment["signal_type"] == type_index
            control, treatment = of_type & experiment["control"], of_type & ~experiment["control"]
            result = compare_proportions(int(converted[control].sum()), int(control.sum()),
                                         int(converted[treatment].sum()), int(treatment.sum()))
            assert result.difference_ci is not None
            low, high = result.difference_ci
            covered[replication, type_index] = low <= true_differences[type_index] <= high
            excludes_zero[replication, type_index] = low > 0 or high < 0
            widths[replication, type_index] = high - low
        if (replication + 1) % 100 == 0:
            print(f"  {replication + 1}/{replications} replications, {time.perf_counter() - started:.1f} s",
                  file=sys.stderr)
    return {"replications": replications, "coverage": float(covered.mean()),
            "zero_lift_significant_share": float(excludes_zero[:, 0].mean()),
            "coverage_by_type": {name: round(float(covered[:, i].mean()), 4) for i, name in enumerate(SIGNAL_TYPES)},
            "power_by_type": {name: round(float(excludes_zero[:, i].mean()), 4)
                              for i, name in enumerate(SIGNAL_TYPES)},
            "mean_ci_width_points": {name: round(float(widths[:, i].mean()) * 100, 3)
                                     for i, name in enumerate(SIGNAL_TYPES)},
            "strata_exact": strata_exact, "seconds": time.perf_counter() - started}


def end_to_end(leads: int, seed: int) -> tuple[float, dict[str, Any]]:
    """One replication through ``analyze()`` (LeadResult objects, bootstrap, Kaplan–Meier): its time and headline."""
    experiment = simulate(np.random.default_rng(seed), leads)
    results = [LeadResult(lead_id=str(index), arm="control" if experiment["control"][index] else "treatment",
                          stratum=str(experiment["stratum"][index]),
                          signal_types=frozenset({SIGNAL_TYPES[experiment["signal_type"][index]]}),
                          exposed=bool(experiment["exposed"][index]), recovered=float(experiment["recovered"][index]),
                          days_to_payment=None if np.isnan(experiment["paid_day"][index])
                          else float(experiment["paid_day"][index]),
                          followup_days=FOLLOWUP_DAYS)
               for index in range(leads)]
    started = time.perf_counter()
    analysis = analyze(results, conversion_days=CONVERSION_DAYS)
    seconds = time.perf_counter() - started
    headline = analysis.headline.conversion
    return seconds, {"relative_lift": headline.relative_lift, "relative_lift_ci": headline.relative_lift_ci,
                     "p_value": headline.p_value, "significant": analysis.headline.significant}


def summary(label: str, figures: dict[str, Any], leads: int) -> None:
    print(f"{label}: {figures['replications']} replications × {leads:,} leads in {figures['seconds']:.1f} s; "
          f"strata exact: {figures['strata_exact']}")
    print(f"  95% Newcombe interval coverage, pooled over 4 types: {figures['coverage']:.2%} (target 93-97%)")
    print(f"  zero-lift type called significant: {figures['zero_lift_significant_share']:.2%} (target <= 6%)")
    print(f"  {'type':<18}{'true lift':>10}{'coverage':>10}{'power':>8}{'CI width':>12}")
    for index, name in enumerate(SIGNAL_TYPES):
        print(f"  {name:<18}{TRUE_LIFTS[index]:>10.0%}{figures['coverage_by_type'][name]:>10.1%}"
              f"{figures['power_by_type'][name]:>8.1%}{figures['mean_ci_width_points'][name]:>9.2f} pts")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--replications", type=int, default=200)
    parser.add_argument("--long-replications", type=int, default=1000, help="0 skips the long run")
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()

    print(f"simulating {args.replications} experiments of {args.leads:,} leads", file=sys.stderr)
    figures = run(args.replications, args.leads, args.seed)
    summary("main run", figures, args.leads)
    result: dict[str, Any] = {"replications": args.replications, "leads": args.leads,
                              "coverage": round(figures["coverage"], 4),
                              "zero_lift_significant_share": round(figures["zero_lift_significant_share"], 4),
                              "coverage_by_type": figures["coverage_by_type"],
                              "power_by_type": figures["power_by_type"],
                              "strata_exact": figures["strata_exact"], "seconds": round(figures["seconds"], 2)}

    projected = figures["seconds"] / args.replications * args.long_replications
    if args.long_replications and projected < LONG_RUN_BUDGET_S:
        print(f"long run: {args.long_replications} replications (projected {projected:.0f} s)", file=sys.stderr)
        long = run(args.long_replications, args.leads, args.seed + 1)
        summary("long run", long, args.leads)
        result.update({"replications_long": args.long_replications, "coverage_long": round(long["coverage"], 4),
                       "zero_lift_significant_share_long": round(long["zero_lift_significant_share"], 4),
                       "coverage_by_type_long": long["coverage_by_type"], "seconds_long": round(long["seconds"], 2)})
    elif args.long_replications:
        print(f"long run skipped: projected {projected:.0f} s > {LONG_RUN_BUDGET_S:.0f} s")

    analyze_seconds, headline = end_to_end(args.leads, args.seed + 2)
    print(f"analyze() on one replication of {args.leads:,} leads: {analyze_seconds:.2f} s; headline lift "
          f"{headline['relative_lift']:+.1%}, p = {headline['p_value']:.3g}, significant: {headline['significant']}")
    result["analyze_seconds"] = round(analyze_seconds, 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
