"""Holdout analysis: do alerts lift recovery, compared with a randomised control group that got no alerts?

Pure statistics, no database: the caller hands in one ``LeadResult`` per assigned lead. The headline is always the
intention-to-treat comparison (every assigned lead, in the arm it was randomised to) because only that comparison is
protected by the randomisation; the per-protocol comparison (control vs treatment leads whose alert was delivered)
sits beside it, labelled, as a sensitivity check.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, stats  # type: ignore[import-untyped]
from statsmodels.duration.survfunc import SurvfuncRight, survdiff  # type: ignore[import-untyped]
from statsmodels.stats.power import NormalIndPower  # type: ignore[import-untyped]
from statsmodels.stats.proportion import (  # type: ignore[import-untyped]
    confint_proportions_2indep,
    proportion_effectsize,
    test_proportions_2indep,
)

Arm = Literal["control", "treatment"]
Block = Literal["itt", "per_protocol"]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

ALL_SECTION = "all"
BOOTSTRAP_METHOD = "percentile"
# Below this many conversions in an arm the normal approximations behind the intervals get rough.
FEW_CONVERSIONS = 10
# Upper bound on resampled values held in memory at once by the bootstrap (8 bytes each: ~32 MB).
BOOTSTRAP_BATCH_VALUES = 4_000_000
# Simpson nodes per look for the alpha-spending integrals (odd; 401 gives ~1e-9 accuracy on these smooth densities).
SPENDING_GRID_POINTS = 401


@dataclass(frozen=True)
class LeadResult:
    """One assigned lead's outcome; ``exposed`` is a treatment lead whose first alert was delivered."""

    lead_id: str
    arm: Arm
    stratum: str
    signal_types: frozenset[str]
    exposed: bool
    recovered: float
    days_to_payment: float | None
    followup_days: float


@dataclass(frozen=True)
class ProportionComparison:
    """Conversion in two arms; differences are treatment − control, None where a quantity is undefined."""

    control_converted: int
    control_n: int
    treatment_converted: int
    treatment_n: int
    control_rate: float | None
    treatment_rate: float | None
    difference: float | None
    difference_ci: tuple[float, float] | None
    relative_lift: float | None
    relative_lift_ci: tuple[float, float] | None
    p_value: float | None
    alpha: float


@dataclass(frozen=True)
class MeanComparison:
    """Mean per arm (dollars recovered per lead) and a bootstrap interval for treatment − control."""

    control_n: int
    treatment_n: int
    control_mean: float | None
    treatment_mean: float | None
    difference: float | None
    difference_ci: tuple[float, float] | None
    confidence_level: float
    resamples: int
    method: str


@dataclass(frozen=True)
class SurvivalCurve:
    """Kaplan–Meier estimate of the share of an arm's leads that have not paid yet, at each payment time."""

    n: int
    events: int
    times: tuple[float, ...]
    survival: tuple[float, ...]
    at_risk: tuple[int, ...]
    max_days: float  # the longest any lead of the arm was observed: the curve runs flat up to here


@dataclass(frozen=True)
class SurvivalComparison:
    """Days to first payment per arm (censored at follow-up), medians (None if not reached) and the log-rank test."""

    control: SurvivalCurve | None
    treatment: SurvivalCurve | None
    control_median_days: float | None
    treatment_median_days: float | None
    logrank_statistic: float | None
    logrank_p_value: float | None


@dataclass(frozen=True)
class BlockAnalysis:
    """One comparison of a section: intention-to-treat (the headline) or per-protocol (a sensitivity check)."""

    block: Block
    label: str
    conversion: ProportionComparison
    recovered: MeanComparison
    time_to_payment: SurvivalComparison
    control_in_followup: int
    treatment_in_followup: int
    alpha_used: float
    significant: bool
    notes: tuple[str, ...]


@dataclass(frozen=True)
class SectionAnalysis:
    """All leads, or the leads that had one signal type, with both comparisons."""

    section: str
    leads: int
    still_in_followup: int
    itt: BlockAnalysis
    per_protocol: BlockAnalysis
    notes: tuple[str, ...]


@dataclass(frozen=True)
class StratumBalance:
    """Arm sizes in one randomisation stratum: shows that the stratified assignment held."""

    stratum: str
    control_n: int
    treatment_n: int

    @property
    def control_share(self) -> float | None:
        total = self.control_n + self.treatment_n
        return self.control_n / total if total else None


@dataclass(frozen=True)
class ExperimentAnalysis:
    """The whole analysis; ``sections[0]`` is always "all" and its ITT block is the headline."""

    leads: int
    conversion_days: int
    information_fraction: float
    previous_looks: tuple[float, ...]
    alpha: float
    alpha_used: float
    interim: bool
    significance_rule: str
    horizon_statement: str
    sections: tuple[SectionAnalysis, ...]
    strata: tuple[StratumBalance, ...]
    notes: tuple[str, ...]

    @property
    def headline(self) -> BlockAnalysis:
        return self.sections[0].itt


# --- small helpers --------------------------------------------------------------------------------------------------


def _finite(value: Any) -> float | None:
    """A plain float, or None for NaN/inf/None (what statsmodels returns where a quantity is undefined)."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _interval(low: Any, high: Any) -> tuple[float, float] | None:
    low_value, high_value = _finite(low), _finite(high)
    if low_value is None or high_value is None:
        return None
    return (low_value, high_value)


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")


# --- conversion -----------------------------------------------------------------------------------------------------


def compare_proportions(
    control_x: int, control_n: int, treatment_x: int, treatment_n: int, *, alpha: float = 0.05
) -> ProportionComparison:
    """Difference in conversion with a Newcombe interval, relative lift with a log interval and a score-test p.

    Newcombe's hybrid score interval keeps close to nominal coverage at the low rates (5–10 %) and uneven arms
    (10/90) of a holdout, where the Wald interval undercovers.
    """
    _check_alpha(alpha)
    for converted, total in ((control_x, control_n), (treatment_x, treatment_n)):
        if total < 0 or not 0 <= converted <= total:
            raise ValueError(f"need 0 <= converted <= n, got {converted} of {total}")
    control_rate = control_x / control_n if control_n else None
    treatment_rate = treatment_x / treatment_n if treatment_n else None
    difference: float | None = None
    difference_ci = relative_lift_ci = None
    relative_lift = p_value = None
    if control_rate is not None and treatment_rate is not None:
        difference = treatment_rate - control_rate
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            # statsmodels compares sample 1 with sample 2: treatment first gives treatment − control.
            difference_ci = _interval(*confint_proportions_2indep(
                treatment_x, treatment_n, control_x, control_n, compare="diff", method="newcomb", alpha=alpha))
            if control_x > 0:
                relative_lift = treatment_rate / control_rate - 1
                ratio_ci = _interval(*confint_proportions_2indep(
                    treatment_x, treatment_n, control_x, control_n, compare="ratio", method="log-adjusted",
                    alpha=alpha))
                relative_lift_ci = (ratio_ci[0] - 1, ratio_ci[1] - 1) if ratio_ci else None
            pooled = (control_x + treatment_x) / (control_n + treatment_n)
            if 0 < pooled < 1:  # with no (or only) conversions the score statistic is 0/0
                p_value = _finite(test_proportions_2indep(
                    treatment_x, treatment_n, control_x, control_n, method="score").pvalue)
    return ProportionComparison(
        control_converted=control_x, control_n=control_n, treatment_converted=treatment_x, treatment_n=treatment_n,
        control_rate=control_rate, treatment_rate=treatment_rate, difference=difference, difference_ci=difference_ci,
        relative_lift=relative_lift, relative_lift_ci=relative_lift_ci, p_value=p_value, alpha=alpha)


# --- dollars recovered ----------------------------------------------------------------------------------------------


def _difference_of_means(treatment: FloatArray, control: FloatArray, axis: int = -1) -> FloatArray:
    return np.asarray(np.mean(treatment, axis=axis) - np.mean(control, axis=axis), dtype=np.float64)


def compare_means_bootstrap(
    control: ArrayLike, treatment: ArrayLike, *, alpha: float = 0.05, resamples: int = 2000, seed: int = 0
) -> MeanComparison:
    """Mean per arm and a two-sample bootstrap interval for treatment − control (dollars are far from normal)."""
    _check_alpha(alpha)
    control_values = np.asarray(control, dtype=np.float64).ravel()
    treatment_values = np.asarray(treatment, dtype=np.float64).ravel()
    if not (np.isfinite(control_values).all() and np.isfinite(treatment_values).all()):
        raise ValueError("amounts must be finite")
    control_mean = float(control_values.mean()) if control_values.size else None
    treatment_mean = float(treatment_values.mean()) if treatment_values.size else None
    difference = None if control_mean is None or treatment_mean is None else treatment_mean - control_mean
    difference_ci: tuple[float, float] | None = None
    if difference is not None and min(control_values.size, treatment_values.size) >= 2:
        if np.ptp(control_values) == 0 and np.ptp(treatment_values) == 0:
            difference_ci = (difference, difference)  # every resample gives the same difference
        else:
            batch = max(1, min(resamples, BOOTSTRAP_BATCH_VALUES // (control_values.size + treatment_values.size)))
            # Percentile, not BCa: the arms hold hundreds to tens of thousands of leads, where the bootstrap
            # distribution of a difference of means is close to symmetric and BCa barely moves the limits, while
            # BCa's jackknife costs O(n²) per arm and turns NaN on degenerate arms (e.g. one payment in control).
            result = stats.bootstrap(
                (treatment_values, control_values), _difference_of_means, n_resamples=resamples, batch=batch,
                vectorized=True, paired=False, confidence_level=1 - alpha, method=BOOTSTRAP_METHOD,
                rng=np.random.default_rng(seed))
            difference_ci = _interval(result.confidence_interval.low, result.confidence_interval.high)
    return MeanComparison(
        control_n=int(control_values.size), treatment_n=int(treatment_values.size), control_mean=control_mean,
        treatment_mean=treatment_mean, difference=difference, difference_ci=difference_ci,
        confidence_level=1 - alpha, resamples=resamples, method=BOOTSTRAP_METHOD)


# --- time to first payment ------------------------------------------------------------------------------------------


def _survival_curve(days: FloatArray, observed: BoolArray) -> SurvivalCurve | None:
    if days.size == 0:
        return None
    fit = SurvfuncRight(days, observed.astype(np.int64))
    return SurvivalCurve(
        n=int(days.size), events=int(observed.sum()), times=tuple(float(t) for t in fit.surv_times),
        survival=tuple(float(s) for s in fit.surv_prob), at_risk=tuple(int(r) for r in fit.n_risk),
        max_days=float(days.max()))


def _median_days(curve: SurvivalCurve | None) -> float | None:
    """First time the share not yet paid is at or below one half; None while more than half have not paid."""
    if curve is None:
        return None
    return next((time for time, share in zip(curve.times, curve.survival, strict=True) if share <= 0.5), None)


def compare_time_to_event(
    control_days: ArrayLike, control_observed: ArrayLike, treatment_days: ArrayLike, treatment_observed: ArrayLike
) -> SurvivalComparison:
    """Kaplan–Meier per arm and the log-rank test: do alerted leads pay sooner, using the still-unpaid leads too?"""
    arms: list[tuple[FloatArray, BoolArray]] = []
    for days, observed in ((control_days, control_observed), (treatment_days, treatment_observed)):
        day_values = np.asarray(days, dtype=np.float64).ravel()
        observed_values = np.asarray(observed, dtype=bool).ravel()
        if day_values.shape != observed_values.shape:
            raise ValueError("days and observed flags must have the same length")
        if not np.isfinite(day_values).all() or (day_values < 0).any():
            raise ValueError("days must be finite and non-negative")
        arms.append((day_values, observed_values))
    (control_values, control_events), (treatment_values, treatment_events) = arms
    control_curve = _survival_curve(control_values, control_events)
    treatment_curve = _survival_curve(treatment_values, treatment_events)
    statistic = p_value = None
    if control_values.size and treatment_values.size and (control_events.any() or treatment_events.any()):
        groups = np.r_[np.zeros(control_values.size), np.ones(treatment_values.size)]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                raw_statistic, raw_p = survdiff(
                    np.r_[control_values, treatment_values],
                    np.r_[control_events, treatment_events].astype(np.int64), groups)
            statistic, p_value = _finite(raw_statistic), _finite(raw_p)
        except (np.linalg.LinAlgError, ValueError, ZeroDivisionError):
            statistic = p_value = None
    return SurvivalComparison(
        control=control_curve, treatment=treatment_curve, control_median_days=_median_days(control_curve),
        treatment_median_days=_median_days(treatment_curve), logrank_statistic=statistic, logrank_p_value=p_value)


# --- design: sample size and sequential looks -----------------------------------------------------------------------


def _treated_rate(base_rate: float, relative_lift: float) -> float:
    if not 0 < base_rate < 1:
        raise ValueError(f"base_rate must be in (0, 1), got {base_rate}")
    treated = base_rate * (1 + relative_lift)
    if relative_lift == 0 or not 0 < treated < 1:
        raise ValueError(f"relative_lift must be non-zero and keep the treated rate in (0, 1), got {relative_lift}")
    return treated


def sample_size_per_arm(
    base_rate: float, relative_lift: float, *, power: float = 0.8, alpha: float = 0.05, control_share: float = 0.1
) -> tuple[int, int]:
    """(control n, treatment n) to detect the lift with a two-sided test (arcsine effect size, normal power)."""
    _check_alpha(alpha)
    if not 0 < power < 1 or not 0 < control_share < 1:
        raise ValueError("power and control_share must be in (0, 1)")
    effect = proportion_effectsize(_treated_rate(base_rate, relative_lift), base_rate)
    ratio = (1 - control_share) / control_share
    control_n = float(NormalIndPower().solve_power(
        effect_size=abs(effect), alpha=alpha, power=power, ratio=ratio, alternative="two-sided"))
    # Round before ceil so that 1000.0000000001 (float noise of the ratio) stays 1000.
    return math.ceil(round(control_n, 6)), math.ceil(round(control_n * ratio, 6))


def _percent(share: float) -> str:
    return f"{round(share * 100, 4):g}%"


def power_sentence(
    base_rate: float, relative_lift: float, *, power: float = 0.8, alpha: float = 0.05, control_share: float = 0.1
) -> str:
    """The sample-size requirement in one sentence for the report."""
    control_n, treatment_n = sample_size_per_arm(
        base_rate, relative_lift, power=power, alpha=alpha, control_share=control_share)
    return (f"To detect a {_percent(relative_lift)} lift on a {_percent(base_rate)} base rate at {_percent(power)} "
            f"power (two-sided α={alpha:g}) with {_percent(control_share)} in control you need {control_n:,} control "
            f"and {treatment_n:,} treatment leads.")


def alpha_spent(information_fraction: float, alpha: float = 0.05) -> float:
    """Cumulative two-sided alpha an O'Brien–Fleming-type Lan–DeMets function allows by this information fraction.

    2 − 2Φ(z_{1−α/2}/√t): almost nothing early (0.0056 of 0.05 at half the information), all of α at t = 1, so
    peeking early cannot inflate the false-positive rate of the fixed-horizon design.
    """
    _check_alpha(alpha)
    if information_fraction <= 0:
        raise ValueError(f"information_fraction must be positive, got {information_fraction}")
    if information_fraction >= 1:
        return alpha
    return float(2 * stats.norm.sf(stats.norm.isf(alpha / 2) / math.sqrt(information_fraction)))


def _simpson_grid(half_width: float, points: int = SPENDING_GRID_POINTS) -> tuple[FloatArray, FloatArray]:
    """Nodes and Simpson weights over (−half_width, half_width)."""
    nodes = np.linspace(-half_width, half_width, points)
    weights = np.ones(points)
    weights[1:-1:2], weights[2:-1:2] = 4.0, 2.0
    return nodes, weights * (nodes[1] - nodes[0]) / 3


def _mass_staying_inside(
    half_width: float, nodes: FloatArray, mass: FloatArray, step: float, target: float
) -> float:
    """P(continued so far and |B(t_k)| < half_width) − target, from the weighted density at the previous look."""
    inside = stats.norm.cdf((half_width - nodes) / step) - stats.norm.cdf((-half_width - nodes) / step)
    return float(mass @ inside) - target


def interim_alpha(
    information_fraction: float, *, previous_fractions: Sequence[float] = (), alpha: float = 0.05
) -> float:
    """Nominal two-sided p-value threshold for a look at this information fraction, after the earlier looks.

    The first look's threshold is ``alpha_spent(t)``. A later look's boundary c_k solves P(no earlier stop and
    |Z_k| ≥ c_k) = α(t_k) − α(t_{k−1}), so the looks together spend exactly α; the probabilities come from the
    recursive numerical integration of Armitage, McPherson and Rowe (1969) over the score process B(t) ~ N(0, t)
    (Jennison and Turnbull 2000, ch. 19). Fractions above 1 count as 1.
    """
    _check_alpha(alpha)
    fractions = [min(float(t), 1.0) for t in (*previous_fractions, information_fraction)]
    if fractions[0] <= 0 or any(later <= earlier for earlier, later in itertools.pairwise(fractions)):
        raise ValueError(f"information fractions must be positive and increasing, got {fractions}")
    if len(fractions) == 1:
        return alpha_spent(fractions[0], alpha)
    boundary = float(stats.norm.isf(alpha_spent(fractions[0], alpha) / 2))
    # Density of B(t_1) over the region where the first look does not stop.
    nodes, weights = _simpson_grid(boundary * math.sqrt(fractions[0]))
    density = stats.norm.pdf(nodes, scale=math.sqrt(fractions[0]))
    for earlier, later in itertools.pairwise(fractions):
        step = math.sqrt(later - earlier)
        mass = weights * density
        increment = alpha_spent(later, alpha) - alpha_spent(earlier, alpha)
        if increment <= 0:
            return 0.0
        # Stopping now has probability P(continued so far) − P(continued and |B(t_k)| < w): solve for w.
        target_inside = float(mass.sum()) - increment
        half_width = float(optimize.brentq(
            _mass_staying_inside, 0.0, 15.0, args=(nodes, mass, step, target_inside), xtol=1e-10))
        boundary = half_width / math.sqrt(later)
        next_nodes, weights = _simpson_grid(half_width)
        density = stats.norm.pdf((next_nodes[:, None] - nodes[None, :]) / step) @ mass / step
        nodes = next_nodes
    return float(2 * stats.norm.sf(boundary))


# --- the whole experiment -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _LeadArrays:
    treatment: BoolArray
    exposed: BoolArray
    recovered: FloatArray
    paid: BoolArray
    event_days: FloatArray
    converted: BoolArray
    pending: BoolArray


def _lead_arrays(leads: Sequence[LeadResult], conversion_days: int) -> _LeadArrays:
    for lead in leads:
        if lead.arm not in ("control", "treatment"):
            raise ValueError(f"lead {lead.lead_id}: unknown arm {lead.arm!r}")
        if lead.followup_days < 0 or (lead.days_to_payment is not None and lead.days_to_payment < 0):
            raise ValueError(f"lead {lead.lead_id}: negative days")
    treatment = np.array([lead.arm == "treatment" for lead in leads], dtype=bool)
    paid = np.array([lead.days_to_payment is not None for lead in leads], dtype=bool)
    payment_days = np.array([lead.days_to_payment if lead.days_to_payment is not None else np.nan for lead in leads],
                            dtype=np.float64)
    followup = np.array([lead.followup_days for lead in leads], dtype=np.float64)
    recovered = np.array([lead.recovered for lead in leads], dtype=np.float64)
    if not np.isfinite(recovered).all() or not np.isfinite(followup).all():
        raise ValueError("recovered and followup_days must be finite")
    converted = paid & (np.nan_to_num(payment_days, nan=np.inf) <= conversion_days)
    return _LeadArrays(
        treatment=treatment, exposed=np.array([lead.exposed for lead in leads], dtype=bool), recovered=recovered,
        paid=paid, event_days=np.where(paid, payment_days, followup), converted=converted,
        pending=~paid & (followup < conversion_days))


def _dollars(amount: float) -> str:
    return f"-${-amount:,.2f}" if amount < 0 else f"${amount:,.2f}"


def _points(difference: float) -> str:
    return f"{difference * 100:+.2f} points"


def _conversion_sentence(conversion: ProportionComparison, conversion_days: int, confidence: str) -> str:
    sentence = (f"Paid within {conversion_days} days: {conversion.treatment_rate:.2%} of treatment leads "
                f"({conversion.treatment_converted:,} of {conversion.treatment_n:,}) vs {conversion.control_rate:.2%} "
                f"of control leads ({conversion.control_converted:,} of {conversion.control_n:,})")
    if conversion.difference is not None:
        sentence += f": {_points(conversion.difference)}"
        if conversion.difference_ci is not None:
            low, high = conversion.difference_ci
            sentence += f" ({confidence} CI {low * 100:+.2f} to {high * 100:+.2f})"
    if conversion.relative_lift is not None:
        sentence += f", a relative lift of {conversion.relative_lift:+.1%}"
        if conversion.relative_lift_ci is not None:
            low, high = conversion.relative_lift_ci
            sentence += f" ({confidence} CI {low:+.1%} to {high:+.1%})"
    if conversion.p_value is not None:
        sentence += f", p = {conversion.p_value:.3g}"
    return sentence + "."


def _block_notes(
    block: Block, conversion: ProportionComparison, recovered: MeanComparison, survival: SurvivalComparison, *,
    conversion_days: int, alpha_used: float, interim: bool, control_pending: int, treatment_pending: int,
    assigned_treatment: int,
) -> tuple[str, ...]:
    confidence = f"{1 - conversion.alpha:.0%}"
    if conversion.control_n == 0 or conversion.treatment_n == 0:
        return ("No comparison: an arm has no leads here.",)
    notes = [_conversion_sentence(conversion, conversion_days, confidence)]
    if block == "per_protocol":
        share = conversion.treatment_n / assigned_treatment if assigned_treatment else 0.0
        notes.append(f"Per-protocol: control vs the {conversion.treatment_n:,} of {assigned_treatment:,} treatment "
                     f"leads ({share:.0%}) whose alert was delivered. Delivery is not randomised (leads whose alert "
                     "got through can differ from the rest), so this is a sensitivity check, not the causal effect; "
                     "the intention-to-treat block is.")
    rule = f"p < {alpha_used:.4g}" + (" at this interim look" if interim else "")
    if conversion.p_value is None:
        notes.append("No test possible: neither arm (or every lead in both arms) has paid.")
    elif conversion.p_value < alpha_used:
        direction = "higher" if (conversion.difference or 0) > 0 else "lower"
        notes.append(f"Significant ({rule}): treatment converts {direction} than control.")
    elif interim:
        notes.append(f"Not significant at this interim look (the rule is {rule}): keep the experiment running to the "
                     "planned horizon; an early look needs far stronger evidence than the final one.")
    else:
        notes.append(f"Not significant (the rule is {rule}): the data are consistent with no effect; the interval "
                     "shows the effects they cannot rule out.")
    if min(conversion.control_converted, conversion.treatment_converted) < FEW_CONVERSIONS:
        notes.append(f"Fewer than {FEW_CONVERSIONS} conversions in an arm: the intervals are wide and approximate.")
    if control_pending or treatment_pending:
        notes.append(f"{control_pending + treatment_pending:,} leads ({control_pending:,} control, "
                     f"{treatment_pending:,} treatment) have had under {conversion_days} days of follow-up and no "
                     "payment yet: they count as not converted, so these rates can still rise.")
    if recovered.difference is not None and recovered.treatment_mean is not None and recovered.control_mean is not None:
        sentence = (f"Recovered per lead: {_dollars(recovered.treatment_mean)} treatment vs "
                    f"{_dollars(recovered.control_mean)} control, difference {_dollars(recovered.difference)}")
        if recovered.difference_ci is not None:
            low, high = recovered.difference_ci
            sentence += f" ({confidence} bootstrap CI {_dollars(low)} to {_dollars(high)})"
        notes.append(sentence + ".")
    if survival.logrank_p_value is not None:
        if survival.treatment_median_days is None and survival.control_median_days is None:
            medians = "not reached in either arm (fewer than half of the leads have paid)"
        else:
            medians = ", ".join(f"{arm} {'not reached' if median is None else f'{median:.0f} days'}"
                                for arm, median in (("treatment", survival.treatment_median_days),
                                                    ("control", survival.control_median_days)))
        notes.append(f"Median days to first payment: {medians}; log-rank test of time to payment "
                     f"p = {survival.logrank_p_value:.3g}.")
    return tuple(notes)


def _analyze_block(
    block: Block, arrays: _LeadArrays, control: BoolArray, treatment: BoolArray, *, conversion_days: int,
    alpha: float, alpha_used: float, interim: bool, seed: int, assigned_treatment: int,
) -> BlockAnalysis:
    conversion = compare_proportions(
        int(arrays.converted[control].sum()), int(control.sum()), int(arrays.converted[treatment].sum()),
        int(treatment.sum()), alpha=alpha)
    recovered = compare_means_bootstrap(
        arrays.recovered[control], arrays.recovered[treatment], alpha=alpha, seed=seed)
    survival = compare_time_to_event(
        arrays.event_days[control], arrays.paid[control], arrays.event_days[treatment], arrays.paid[treatment])
    control_pending, treatment_pending = int(arrays.pending[control].sum()), int(arrays.pending[treatment].sum())
    significant = conversion.p_value is not None and conversion.p_value < alpha_used
    label = "Intention to treat (all assigned leads)" if block == "itt" else \
        "Per protocol (control vs treatment leads whose alert was delivered)"
    notes = _block_notes(
        block, conversion, recovered, survival, conversion_days=conversion_days, alpha_used=alpha_used,
        interim=interim, control_pending=control_pending, treatment_pending=treatment_pending,
        assigned_treatment=assigned_treatment)
    return BlockAnalysis(
        block=block, label=label, conversion=conversion, recovered=recovered, time_to_payment=survival,
        control_in_followup=control_pending, treatment_in_followup=treatment_pending, alpha_used=alpha_used,
        significant=significant, notes=notes)


def _rules(
    conversion_days: int, information_fraction: float, previous_looks: tuple[float, ...], alpha: float,
    alpha_used: float,
) -> tuple[str, str]:
    interim = information_fraction < 1
    if interim:
        rule = (f"Interim look at {information_fraction:.0%} of the planned information: O'Brien-Fleming-type "
                f"Lan-DeMets alpha spending, so a result is significant only when p < {alpha_used:.4g} (not "
                f"{alpha:g}). The {1 - alpha:.0%} intervals shown are not widened for the interim look.")
    elif previous_looks:
        rule = (f"Final analysis after {len(previous_looks)} interim look(s): O'Brien-Fleming-type Lan-DeMets alpha "
                f"spending leaves p < {alpha_used:.4g} for this look (two-sided score test of the difference in "
                "conversion).")
    else:
        rule = (f"Fixed horizon (the planned final analysis): significant when p < {alpha:g} (two-sided score test of "
                "the difference in conversion).")
    horizon = (f"Conversion is a payment within {conversion_days} days of assignment. The design has a fixed "
               f"horizon: the planned analysis comes once the planned leads have {conversion_days} days of "
               "follow-up; this analysis is "
               + ("at that horizon." if not interim else f"an interim look at {information_fraction:.0%} of it."))
    return rule, horizon


def analyze(
    leads: Sequence[LeadResult], *, conversion_days: int = 90, information_fraction: float = 1.0,
    alpha: float = 0.05, seed: int = 0, previous_looks: Sequence[float] = (),
) -> ExperimentAnalysis:
    """The experiment report's numbers: all leads and each signal type, intention-to-treat and per-protocol.

    ``information_fraction`` < 1 marks an interim look (significance only below the spent alpha);
    ``previous_looks`` lists the information fractions of earlier looks, which also tighten the final one.
    """
    _check_alpha(alpha)
    if conversion_days <= 0:
        raise ValueError(f"conversion_days must be positive, got {conversion_days}")
    fraction = min(float(information_fraction), 1.0)
    looks = tuple(float(t) for t in previous_looks)
    alpha_used = interim_alpha(fraction, previous_fractions=looks, alpha=alpha)
    interim = fraction < 1
    arrays = _lead_arrays(leads, conversion_days)
    signal_types = sorted({signal_type for lead in leads for signal_type in lead.signal_types})
    masks: list[tuple[str, BoolArray]] = [(ALL_SECTION, np.ones(len(leads), dtype=bool))]
    masks += [(signal_type, np.array([signal_type in lead.signal_types for lead in leads], dtype=bool))
              for signal_type in signal_types]
    sections = []
    for name, mask in masks:
        control, treatment = mask & ~arrays.treatment, mask & arrays.treatment
        compared_arms: tuple[tuple[Block, BoolArray], ...] = (
            ("itt", treatment), ("per_protocol", treatment & arrays.exposed))
        itt, per_protocol = (
            _analyze_block(block, arrays, control, compared, conversion_days=conversion_days, alpha=alpha,
                           alpha_used=alpha_used, interim=interim, seed=seed, assigned_treatment=int(treatment.sum()))
            for block, compared in compared_arms)
        pending = int(arrays.pending[mask].sum())
        section_notes = []
        if pending:
            section_notes.append(f"{pending:,} of {int(mask.sum()):,} leads are still in follow-up (under "
                                 f"{conversion_days} days since assignment, no payment yet).")
        if name != ALL_SECTION:
            section_notes.append("Leads that had this signal type; a lead with several types is in each of their "
                                 "sections.")
        sections.append(SectionAnalysis(section=name, leads=int(mask.sum()), still_in_followup=pending, itt=itt,
                                        per_protocol=per_protocol, notes=tuple(section_notes)))
    strata_counts: dict[str, list[int]] = {}
    for lead in leads:
        strata_counts.setdefault(lead.stratum, [0, 0])[lead.arm == "treatment"] += 1
    strata = tuple(StratumBalance(stratum=stratum, control_n=counts[0], treatment_n=counts[1])
                   for stratum, counts in sorted(strata_counts.items()))
    rule, horizon = _rules(conversion_days, fraction, looks, alpha, alpha_used)
    return ExperimentAnalysis(
        leads=len(leads), conversion_days=conversion_days, information_fraction=fraction, previous_looks=looks,
        alpha=alpha, alpha_used=alpha_used, interim=interim, significance_rule=rule, horizon_statement=horizon,
        sections=tuple(sections), strata=strata, notes=_experiment_notes(leads, arrays, signal_types))


def _experiment_notes(leads: Sequence[LeadResult], arrays: _LeadArrays, signal_types: Iterable[str]) -> tuple[str, ...]:
    notes = ["The headline is intention to treat: every assigned lead counts in the arm it was randomised to, "
             "whether or not an alert was delivered, so the comparison is protected by the randomisation."]
    type_count = len(list(signal_types))
    if type_count > 1:
        notes.append(f"The {type_count} per-signal-type sections are secondary: with {type_count} types one may "
                     "cross the threshold by chance alone.")
    leaked = int((~arrays.treatment & arrays.exposed).sum())
    if leaked:
        notes.append(f"Warning: {leaked:,} control leads are marked as having received an alert: the control "
                     "suppression leaked. They stay in control for intention to treat, which dilutes the effect.")
    if not leads:
        notes.append("No leads have been assigned yet.")
    return tuple(notes)


# --- flat and JSON views --------------------------------------------------------------------------------------------


def _round(value: float | None, digits: int) -> float | None:
    number = _finite(value)
    return None if number is None else round(number, digits)


def _significant_digits(value: float | None, digits: int = 4) -> float | None:
    number = _finite(value)
    return None if number is None else float(f"{number:.{digits}g}")


def _bounds(interval: tuple[float, float] | None, digits: int) -> tuple[float | None, float | None]:
    return (None, None) if interval is None else (_round(interval[0], digits), _round(interval[1], digits))


def analysis_rows(analysis: ExperimentAnalysis) -> list[dict[str, Any]]:
    """One flat row per section and block, for the CLI table and CSV export."""
    rows = []
    for section in analysis.sections:
        for block in (section.itt, section.per_protocol):
            conversion, recovered, survival = block.conversion, block.recovered, block.time_to_payment
            difference_low, difference_high = _bounds(conversion.difference_ci, 6)
            lift_low, lift_high = _bounds(conversion.relative_lift_ci, 4)
            recovered_low, recovered_high = _bounds(recovered.difference_ci, 2)
            rows.append({
                "section": section.section, "block": block.block,
                "control_n": conversion.control_n, "treatment_n": conversion.treatment_n,
                "control_converted": conversion.control_converted,
                "treatment_converted": conversion.treatment_converted,
                "control_rate": _round(conversion.control_rate, 6),
                "treatment_rate": _round(conversion.treatment_rate, 6),
                "difference": _round(conversion.difference, 6),
                "difference_ci_low": difference_low, "difference_ci_high": difference_high,
                "relative_lift": _round(conversion.relative_lift, 4),
                "relative_lift_ci_low": lift_low, "relative_lift_ci_high": lift_high,
                "p_value": _significant_digits(conversion.p_value),
                "alpha_used": _significant_digits(block.alpha_used), "significant": block.significant,
                "control_mean_recovered": _round(recovered.control_mean, 2),
                "treatment_mean_recovered": _round(recovered.treatment_mean, 2),
                "recovered_difference": _round(recovered.difference, 2),
                "recovered_difference_ci_low": recovered_low, "recovered_difference_ci_high": recovered_high,
                "control_median_days": _round(survival.control_median_days, 2),
                "treatment_median_days": _round(survival.treatment_median_days, 2),
                "logrank_p_value": _significant_digits(survival.logrank_p_value),
                "in_followup": block.control_in_followup + block.treatment_in_followup,
            })
    return rows


def _curve_json(curve: SurvivalCurve | None) -> dict[str, Any] | None:
    if curve is None:
        return None
    return {"n": curve.n, "events": curve.events, "times": [round(t, 3) for t in curve.times],
            "survival": [round(s, 6) for s in curve.survival], "at_risk": list(curve.at_risk),
            "max_days": round(curve.max_days, 3)}


def _block_json(block: BlockAnalysis, include_curves: bool) -> dict[str, Any]:
    conversion, recovered, survival = block.conversion, block.recovered, block.time_to_payment
    return {
        "block": block.block, "label": block.label, "significant": block.significant,
        "alpha_used": _significant_digits(block.alpha_used), "notes": list(block.notes),
        "in_followup": {"control": block.control_in_followup, "treatment": block.treatment_in_followup},
        "conversion": {
            "control_n": conversion.control_n, "treatment_n": conversion.treatment_n,
            "control_converted": conversion.control_converted, "treatment_converted": conversion.treatment_converted,
            "control_rate": _round(conversion.control_rate, 6), "treatment_rate": _round(conversion.treatment_rate, 6),
            "difference": _round(conversion.difference, 6), "difference_ci": list(_bounds(conversion.difference_ci, 6)),
            "relative_lift": _round(conversion.relative_lift, 4),
            "relative_lift_ci": list(_bounds(conversion.relative_lift_ci, 4)),
            "p_value": _significant_digits(conversion.p_value), "alpha": conversion.alpha,
        },
        "recovered": {
            "control_n": recovered.control_n, "treatment_n": recovered.treatment_n,
            "control_mean": _round(recovered.control_mean, 2), "treatment_mean": _round(recovered.treatment_mean, 2),
            "difference": _round(recovered.difference, 2), "difference_ci": list(_bounds(recovered.difference_ci, 2)),
            "confidence_level": round(recovered.confidence_level, 4), "resamples": recovered.resamples,
            "method": recovered.method,
        },
        "time_to_payment": {
            "control_median_days": _round(survival.control_median_days, 2),
            "treatment_median_days": _round(survival.treatment_median_days, 2),
            "logrank_statistic": _round(survival.logrank_statistic, 4),
            "logrank_p_value": _significant_digits(survival.logrank_p_value),
            **({"control": _curve_json(survival.control), "treatment": _curve_json(survival.treatment)}
               if include_curves else {}),
        },
    }


def analysis_json(analysis: ExperimentAnalysis, *, include_curves: bool = True) -> dict[str, Any]:
    """The analysis as plain JSON types (rounded floats, None where undefined) for the API and ``--json``."""
    return {
        "leads": analysis.leads, "conversion_days": analysis.conversion_days,
        "information_fraction": round(analysis.information_fraction, 4),
        "previous_looks": [round(t, 4) for t in analysis.previous_looks], "alpha": analysis.alpha,
        "alpha_used": _significant_digits(analysis.alpha_used), "interim": analysis.interim,
        "significance_rule": analysis.significance_rule, "horizon_statement": analysis.horizon_statement,
        "notes": list(analysis.notes),
        "strata": [{"stratum": stratum.stratum, "control_n": stratum.control_n, "treatment_n": stratum.treatment_n,
                    "control_share": _round(stratum.control_share, 4)} for stratum in analysis.strata],
        "sections": [{"section": section.section, "leads": section.leads,
                      "still_in_followup": section.still_in_followup, "notes": list(section.notes),
                      "itt": _block_json(section.itt, include_curves),
                      "per_protocol": _block_json(section.per_protocol, include_curves)}
                     for section in analysis.sections],
    }
