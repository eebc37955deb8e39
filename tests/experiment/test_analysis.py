"""Holdout statistics: checked against published values, independent formulas and a simulated experiment."""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

from upswing.experiment.analysis import (
    LeadResult,
    alpha_spent,
    analysis_json,
    analysis_rows,
    analyze,
    compare_means_bootstrap,
    compare_proportions,
    compare_time_to_event,
    interim_alpha,
    power_sentence,
    sample_size_per_arm,
)
from upswing.experiment.report_pdf import render_pdf

# --- conversion -----------------------------------------------------------------------------------------------------

# Newcombe (1998), "Interval estimation for the difference between independent proportions", Stat Med 17:873-890,
# table II, method 10 (score interval for each proportion, combined): (x1, n1, x2, n2) -> limits for p1 - p2.
NEWCOMBE_1998_METHOD_10 = [
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((6, 7, 2, 7), (0.0582, 0.8062)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ((0, 10, 0, 20), (-0.1611, 0.2775)),
    ((10, 10, 0, 20), (0.6791, 1.0000)),
]


def wilson(x: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    z = stats.norm.isf(alpha / 2)
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def newcombe_by_hand(control_x: int, control_n: int, treatment_x: int, treatment_n: int) -> tuple[float, float]:
    control_rate, treatment_rate = control_x / control_n, treatment_x / treatment_n
    control_low, control_high = wilson(control_x, control_n)
    treatment_low, treatment_high = wilson(treatment_x, treatment_n)
    difference = treatment_rate - control_rate
    return (difference - math.hypot(treatment_rate - treatment_low, control_high - control_rate),
            difference + math.hypot(treatment_high - treatment_rate, control_rate - control_low))


@pytest.mark.parametrize(("counts", "published"), NEWCOMBE_1998_METHOD_10)
def test_difference_interval_matches_newcombes_published_values(counts, published):
    treatment_x, treatment_n, control_x, control_n = counts
    result = compare_proportions(control_x, control_n, treatment_x, treatment_n)
    assert result.difference == pytest.approx(treatment_x / treatment_n - control_x / control_n)
    assert result.difference_ci == pytest.approx(published, abs=5e-5)


def test_compare_proportions_matches_formulas_computed_by_hand():
    control_x, control_n, treatment_x, treatment_n = 52, 1000, 612, 9000
    result = compare_proportions(control_x, control_n, treatment_x, treatment_n)

    assert result.control_rate == pytest.approx(0.052)
    assert result.treatment_rate == pytest.approx(612 / 9000)
    assert result.difference_ci == pytest.approx(newcombe_by_hand(control_x, control_n, treatment_x, treatment_n))

    # Log interval of the risk ratio with 0.5 added to each count and n ("log-adjusted"), minus one.
    ratio = ((treatment_x + 0.5) / (treatment_n + 0.5)) / ((control_x + 0.5) / (control_n + 0.5))
    spread = stats.norm.isf(0.025) * math.sqrt(1 / (treatment_x + 0.5) - 1 / (treatment_n + 0.5)
                                               + 1 / (control_x + 0.5) - 1 / (control_n + 0.5))
    assert result.relative_lift == pytest.approx((612 / 9000) / 0.052 - 1)
    assert result.relative_lift_ci == pytest.approx((ratio * math.exp(-spread) - 1, ratio * math.exp(spread) - 1))

    # The score test of a zero difference is Pearson's chi-square with Miettinen-Nurminen's N/(N-1) variance factor.
    table = [[treatment_x, treatment_n - treatment_x], [control_x, control_n - control_x]]
    pearson = stats.chi2_contingency(table, correction=False).statistic
    total = control_n + treatment_n
    assert result.p_value == pytest.approx(stats.chi2.sf(pearson * (total - 1) / total, 1), rel=1e-6)


def test_compare_proportions_survives_zero_counts():
    nobody_paid = compare_proportions(0, 500, 0, 4500)
    assert nobody_paid.difference == 0
    assert nobody_paid.difference_ci is not None and nobody_paid.difference_ci[0] < 0 < nobody_paid.difference_ci[1]
    assert nobody_paid.relative_lift is None and nobody_paid.relative_lift_ci is None
    assert nobody_paid.p_value is None

    control_never_paid = compare_proportions(0, 100, 9, 900)
    assert control_never_paid.relative_lift is None
    assert control_never_paid.p_value is not None and 0 < control_never_paid.p_value < 1

    treatment_never_paid = compare_proportions(5, 100, 0, 900)
    assert treatment_never_paid.relative_lift == -1
    assert treatment_never_paid.relative_lift_ci is not None

    empty_arm = compare_proportions(0, 0, 3, 10)
    assert empty_arm.control_rate is None and empty_arm.difference is None and empty_arm.difference_ci is None
    assert empty_arm.p_value is None and empty_arm.treatment_rate == 0.3

    with pytest.raises(ValueError):
        compare_proportions(11, 10, 0, 10)


# --- dollars and days -----------------------------------------------------------------------------------------------


def test_bootstrap_interval_covers_the_true_difference():
    rng = np.random.default_rng(7)
    control = rng.exponential(100.0, 4000)
    treatment = rng.exponential(125.0, 4000)
    result = compare_means_bootstrap(control, treatment, seed=1)
    assert result.difference == pytest.approx(treatment.mean() - control.mean())
    assert result.difference_ci is not None
    low, high = result.difference_ci
    assert low < 25.0 < high
    assert high - low < 20  # informative, not a trivially wide interval

    covered = 0
    for replication in range(100):
        sample_rng = np.random.default_rng(1000 + replication)
        small = compare_means_bootstrap(sample_rng.exponential(100.0, 300), sample_rng.exponential(125.0, 300),
                                        resamples=1000, seed=replication)
        assert small.difference_ci is not None
        covered += small.difference_ci[0] < 25.0 < small.difference_ci[1]
    assert 88 <= covered <= 99


def test_bootstrap_degenerate_arms():
    assert compare_means_bootstrap([], [1.0, 2.0]).difference is None
    assert compare_means_bootstrap([1.0], [1.0, 2.0]).difference_ci is None
    assert compare_means_bootstrap([0.0, 0.0], [0.0, 0.0, 0.0]).difference_ci == (0.0, 0.0)


def test_kaplan_meier_median_by_hand():
    # Times 1, 2 (censored), 3, 4, 5: S = 0.8 after day 1, 0.8 * 2/3 after day 3, then 0.8 * 2/3 * 1/2 after day 4.
    result = compare_time_to_event([1, 2, 3, 4, 5], [1, 0, 1, 1, 1], [1, 2, 3, 4, 5], [1, 1, 1, 1, 1])
    assert result.control is not None and result.treatment is not None
    assert result.control.survival[:3] == pytest.approx((0.8, 0.8 * 2 / 3, 0.8 * 2 / 3 / 2))
    assert result.control_median_days == 4
    assert result.treatment_median_days == 3
    assert result.control.at_risk[:3] == (5, 3, 2)


def log_rank_by_hand(days: np.ndarray, paid: np.ndarray, treatment: np.ndarray) -> float:
    """Observed minus expected payments in one arm over its variance, for data without tied times."""
    order = np.argsort(days)
    paid, treatment = paid[order].astype(float), treatment[order]
    at_risk = len(days) - np.arange(len(days))
    treatment_share = np.cumsum(treatment[::-1])[::-1] / at_risk
    observed_minus_expected = (paid * (treatment - treatment_share)).sum()
    variance = (paid * treatment_share * (1 - treatment_share)).sum()
    return float(observed_minus_expected**2 / variance)


def test_log_rank_separates_a_faster_arm_and_not_identical_arms():
    rng = np.random.default_rng(3)
    horizon = 90.0

    def arm(mean_days: float, n: int) -> tuple[np.ndarray, np.ndarray]:
        days = rng.exponential(mean_days, n)
        return np.minimum(days, horizon), days <= horizon

    slow_days, slow_paid = arm(80.0, 300)
    fast_days, fast_paid = arm(30.0, 300)
    faster = compare_time_to_event(slow_days, slow_paid, fast_days, fast_paid)
    assert faster.logrank_p_value is not None and faster.logrank_p_value < 0.01
    assert faster.treatment_median_days is not None and faster.control_median_days is not None
    assert faster.treatment_median_days < faster.control_median_days
    assert faster.treatment_median_days == pytest.approx(30.0 * math.log(2), rel=0.25)

    assert faster.logrank_statistic == pytest.approx(
        log_rank_by_hand(np.r_[slow_days, fast_days], np.r_[slow_paid, fast_paid], np.r_[np.zeros(300), np.ones(300)]))

    identical = compare_time_to_event(slow_days, slow_paid, slow_days.copy(), slow_paid.copy())
    assert identical.logrank_p_value is not None and identical.logrank_p_value > 0.05
    assert identical.control_median_days == identical.treatment_median_days

    nobody_paid = compare_time_to_event([10.0, 20.0], [0, 0], [5.0, 30.0], [0, 0])
    assert nobody_paid.logrank_p_value is None and nobody_paid.control_median_days is None


# --- design ---------------------------------------------------------------------------------------------------------


def test_sample_size_matches_statsmodels_and_the_textbook_formula():
    control_n, treatment_n = sample_size_per_arm(0.05, 0.2, power=0.8, alpha=0.05, control_share=0.1)
    effect = proportion_effectsize(0.06, 0.05)
    direct = NormalIndPower().solve_power(effect_size=effect, alpha=0.05, power=0.8, ratio=9.0)
    assert control_n == pytest.approx(direct, rel=0.01)
    assert treatment_n == pytest.approx(9 * direct, rel=0.01)
    # Normal approximation on the arcsine scale: n_control = (z_{α/2} + z_β)² (1 + 1/k) / h².
    textbook = (stats.norm.isf(0.025) + stats.norm.isf(0.2)) ** 2 * (1 + 1 / 9) / effect**2
    assert control_n == pytest.approx(textbook, rel=0.01)

    half_lift_control, _ = sample_size_per_arm(0.05, 0.1)
    assert 3.6 < half_lift_control / control_n < 4.4

    sentence = power_sentence(0.05, 0.2)
    assert sentence.startswith("To detect a 20% lift on a 5% base rate at 80% power (two-sided α=0.05) with 10% in")
    assert f"{control_n:,} control and {treatment_n:,} treatment leads" in sentence
    with pytest.raises(ValueError):
        sample_size_per_arm(0.05, 0.0)


def test_alpha_spending():
    assert alpha_spent(1.0) == 0.05
    assert alpha_spent(0.5) == pytest.approx(0.0056, abs=1e-4)
    assert alpha_spent(0.25) < alpha_spent(0.5) < alpha_spent(0.75) < 0.05
    assert interim_alpha(0.5) == pytest.approx(alpha_spent(0.5))
    assert interim_alpha(1.0) == 0.05
    final_after_a_look = interim_alpha(1.0, previous_fractions=[0.5])
    assert 0.045 < final_after_a_look < 0.05


def test_spent_boundaries_hold_the_overall_false_positive_rate():
    looks = [0.25, 0.5, 0.75, 1.0]
    thresholds = np.array([interim_alpha(t, previous_fractions=looks[:i]) for i, t in enumerate(looks)])
    boundaries = stats.norm.isf(thresholds / 2)
    rng = np.random.default_rng(11)
    paths = 400_000
    score = np.cumsum(rng.standard_normal((paths, len(looks))) * np.sqrt(np.diff([0.0, *looks])), axis=1)
    stopped_by = np.cumsum(np.abs(score / np.sqrt(looks)) >= boundaries, axis=1) > 0
    # Under no effect, the share stopped by each look is the alpha spent by then (Monte Carlo SE ≤ 0.00035).
    assert stopped_by.mean(axis=0) == pytest.approx([alpha_spent(t) for t in looks], abs=0.0012)


# --- the simulated experiment ---------------------------------------------------------------------------------------

SIGNAL_TYPES = ("new_employment", "promotion", "business_launch", "property_sale")
TRUE_LIFTS = np.array([0.0, 0.2, 0.4, 0.3])
BASE_RATES = np.array([0.05, 0.07, 0.08, 0.10])
PORTFOLIO_FACTORS = np.array([0.8, 0.9, 1.1, 1.2])  # mean 1: portfolios are equally likely
CONVERSION_DAYS = 90


@dataclass
class Replication:
    stratum: np.ndarray
    control: np.ndarray
    signal_type: np.ndarray
    exposed: np.ndarray
    paid_day: np.ndarray  # NaN when no payment within follow-up
    recovered: np.ndarray
    followup: np.ndarray


def simulate(rng: np.random.Generator, leads: int = 20_000, control_share: float = 0.1,
             recent_share: float = 0.0) -> Replication:
    portfolio = rng.integers(0, 4, leads)
    stratum = portfolio * 3 + rng.integers(0, 3, leads)  # 4 portfolios × 3 balance bands
    order = np.lexsort((rng.random(leads), stratum))
    sizes = np.bincount(stratum, minlength=12)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    rank_in_stratum = np.arange(leads) - starts[stratum[order]]
    control = np.zeros(leads, dtype=bool)
    control[order] = rank_in_stratum < np.round(control_share * sizes)[stratum[order]]
    signal_type = rng.integers(0, len(SIGNAL_TYPES), leads)
    lift = np.where(control, 0.0, TRUE_LIFTS[signal_type])
    rate = BASE_RATES[signal_type] * PORTFOLIO_FACTORS[portfolio] * (1.0 + lift)
    converts = rng.random(leads) < rate
    # Days to pay for converting leads: exponential (mean 30) truncated to the conversion window.
    window_share = 1 - math.exp(-CONVERSION_DAYS / 30)
    paid_day = np.where(converts, -30 * np.log1p(-rng.random(leads) * window_share), np.nan)
    followup = np.where(rng.random(leads) < recent_share, rng.uniform(1, CONVERSION_DAYS, leads), 120.0)
    paid_day = np.where(paid_day <= followup, paid_day, np.nan)
    recovered = np.where(np.isnan(paid_day), 0.0, rng.lognormal(math.log(800), 1.0, leads))
    return Replication(stratum=stratum, control=control, signal_type=signal_type,
                       exposed=~control & (rng.random(leads) < 0.85), paid_day=paid_day, recovered=recovered,
                       followup=followup)


def lead_results(replication: Replication) -> list[LeadResult]:
    return [LeadResult(lead_id=f"lead-{index}", arm="control" if replication.control[index] else "treatment",
                       stratum=f"portfolio-{replication.stratum[index] // 3}/band-{replication.stratum[index] % 3}",
                       signal_types=frozenset({SIGNAL_TYPES[replication.signal_type[index]]}),
                       exposed=bool(replication.exposed[index]), recovered=float(replication.recovered[index]),
                       days_to_payment=None if np.isnan(replication.paid_day[index])
                       else float(replication.paid_day[index]),
                       followup_days=float(replication.followup[index]))
            for index in range(len(replication.control))]


def test_simulated_holdout_intervals_cover_the_true_lift():
    """The feature's acceptance test: 200 simulated experiments, 95 % intervals cover 93-97 % of the time."""
    started = time.perf_counter()
    rng = np.random.default_rng(20240601)
    true_differences = BASE_RATES * TRUE_LIFTS
    covered = np.zeros((200, len(SIGNAL_TYPES)), dtype=bool)
    excludes_zero = np.zeros((200, len(SIGNAL_TYPES)), dtype=bool)
    for replication_index in range(200):
        replication = simulate(rng)
        sizes = np.bincount(replication.stratum, minlength=12)
        control_sizes = np.bincount(replication.stratum[replication.control], minlength=12)
        assert (control_sizes == np.round(0.1 * sizes)).all()
        for type_index in range(len(SIGNAL_TYPES)):
            of_type = replication.signal_type == type_index
            converted = ~np.isnan(replication.paid_day)
            control, treatment = of_type & replication.control, of_type & ~replication.control
            result = compare_proportions(int(converted[control].sum()), int(control.sum()),
                                         int(converted[treatment].sum()), int(treatment.sum()))
            assert result.difference_ci is not None
            low, high = result.difference_ci
            covered[replication_index, type_index] = low <= true_differences[type_index] <= high
            excludes_zero[replication_index, type_index] = low > 0 or high < 0
    coverage = covered.mean()
    zero_lift_rejections = excludes_zero[:, 0].mean()
    assert 0.93 <= coverage <= 0.97, coverage
    assert zero_lift_rejections <= 0.06, zero_lift_rejections
    assert excludes_zero[:, 2].mean() > 0.5  # a 40 % lift on 8 % is usually detected with ~500 control leads
    assert time.perf_counter() - started < 60


def test_analyze_end_to_end_equals_the_direct_computation():
    replication = simulate(np.random.default_rng(5), recent_share=0.03)
    leads = lead_results(replication)
    analysis = analyze(leads, conversion_days=CONVERSION_DAYS)

    assert [section.section for section in analysis.sections] == ["all", *sorted(SIGNAL_TYPES)]
    assert analysis.headline is analysis.sections[0].itt
    assert not analysis.interim and "Fixed horizon" in analysis.significance_rule
    converted = ~np.isnan(replication.paid_day) & (np.nan_to_num(replication.paid_day, nan=1e9) <= CONVERSION_DAYS)
    pending = np.isnan(replication.paid_day) & (replication.followup < CONVERSION_DAYS)
    assert pending.sum() > 0
    for section in analysis.sections:
        of_section = (np.ones(len(leads), dtype=bool) if section.section == "all"
                      else replication.signal_type == SIGNAL_TYPES.index(section.section))
        control, treatment = of_section & replication.control, of_section & ~replication.control
        direct = compare_proportions(int(converted[control].sum()), int(control.sum()),
                                     int(converted[treatment].sum()), int(treatment.sum()))
        itt = section.itt
        assert itt.conversion == direct
        assert itt.significant == (direct.p_value is not None and direct.p_value < 0.05)
        assert itt.recovered.control_mean == pytest.approx(replication.recovered[control].mean())
        assert itt.recovered.treatment_mean == pytest.approx(replication.recovered[treatment].mean())
        assert section.still_in_followup == int(pending[of_section].sum())
        assert itt.control_in_followup + itt.treatment_in_followup == section.still_in_followup
        assert any("still in follow-up" in note for note in section.notes)
        exposed = treatment & replication.exposed
        assert section.per_protocol.conversion.treatment_n == int(exposed.sum())
        assert section.per_protocol.conversion.treatment_converted == int(converted[exposed].sum())
        assert section.per_protocol.conversion.control_n == int(control.sum())
        assert section.per_protocol.label.startswith("Per protocol")
        assert itt.time_to_payment.logrank_p_value is not None
    for stratum in analysis.strata:
        assert stratum.control_n == round(0.1 * (stratum.control_n + stratum.treatment_n))

    rows = analysis_rows(analysis)
    assert len(rows) == 2 * len(analysis.sections)
    assert {row["block"] for row in rows} == {"itt", "per_protocol"}
    assert rows[0]["control_n"] == int(replication.control.sum())
    payload = analysis_json(analysis)
    assert json.loads(json.dumps(payload, allow_nan=False))["sections"][0]["itt"]["conversion"]["control_n"] == \
        int(replication.control.sum())

    pdf = render_pdf(analysis, title="Holdout – Q3 portfolio", subtitle="Simulated data ≥ 20,000 leads",
                     power=power_sentence(0.07, 0.2))
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) > 1


def test_interim_look_needs_the_spent_alpha():
    # 70 of 1,000 control vs 810 of 9,000 treatment: p ≈ 0.03, significant at the horizon, not at half of it.
    leads = [LeadResult(lead_id=str(index), arm="control" if index < 1000 else "treatment", stratum="s",
                        signal_types=frozenset({"promotion"}), exposed=index >= 1000, recovered=0.0,
                        days_to_payment=10.0 if (index < 70 or 1000 <= index < 1810) else None, followup_days=120.0)
             for index in range(10_000)]
    final = analyze(leads)
    interim = analyze(leads, information_fraction=0.5)
    p_value = final.headline.conversion.p_value
    assert p_value is not None and alpha_spent(0.5) < p_value < 0.05
    assert final.headline.significant and not interim.headline.significant
    assert interim.interim and interim.alpha_used == pytest.approx(alpha_spent(0.5))
    assert "Interim look at 50%" in interim.significance_rule and "0.005575" in interim.significance_rule
    assert "interim look" in interim.horizon_statement


def test_analyze_without_leads_and_leaky_control():
    empty = analyze([])
    assert empty.leads == 0 and empty.headline.conversion.difference is None and not empty.headline.significant
    json.dumps(analysis_json(empty), allow_nan=False)
    assert render_pdf(empty, title="Empty", subtitle="nothing yet").startswith(b"%PDF")

    leaky = [LeadResult(lead_id="a", arm="control", stratum="s", signal_types=frozenset(), exposed=True,
                        recovered=10.0, days_to_payment=3.0, followup_days=30.0),
             LeadResult(lead_id="b", arm="treatment", stratum="s", signal_types=frozenset(), exposed=True,
                        recovered=0.0, days_to_payment=None, followup_days=30.0)]
    analysis = analyze(leaky)
    assert any("suppression leaked" in note for note in analysis.notes)
    assert [section.section for section in analysis.sections] == ["all"]
