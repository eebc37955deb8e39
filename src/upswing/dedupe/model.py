"""Record linkage for lead deduplication: blocking, comparison levels and Fellegi–Sunter match weights.

Pure: records are plain mappings (field → normalized value, ``None`` when missing; a tuple for a
multi-valued field such as e-mails) and results are plain data. The same code links the FEBRL benchmark
files (``benchmarks/linkage.py``) and deduplicates a portfolio's leads (``resolution.dedupe_service``);
only the field configuration differs.

How a pair is scored (the Fellegi–Sunter model, as Splink does it):

* Each ``Comparison`` turns the two values of one field into a *level*: 0 means they disagree, the top
  level means they are equal, levels in between are degrees of similarity (Jaro–Winkler, edit distance,
  dates one typo apart, nicknames). A missing value gives level -1 and counts for nothing.
* Each level has an m probability (how often true matches reach it) and a u probability (how often two
  random records do). The pair's match weight is ``log2(prior / (1 - prior)) + Σ log2(m / u)``; the match
  probability is ``2^w / (1 + 2^w)``. For fields with ``term_frequency`` an exact agreement on a rare value
  weighs more than on a common one (u is the value's frequency instead of the average).
* ``train`` estimates the parameters without labels: u by comparing random pairs, m and the prior by
  expectation maximisation on pairs that agree on a training key (the key's own field is left out of that
  session, so its agreement does not bias the estimate), as Splink's ``estimate_parameters_using_
  expectation_maximisation`` does. Without training, the defaults written on each comparison are used.

Only pairs that share at least one blocking key are compared (``candidate_pairs``).
"""

from __future__ import annotations

import math
import random
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

Value = Any
Record = Mapping[str, Value]
#: Level vector of one pair: one level per comparison (-1: a value is missing).
Gamma = tuple[int, ...]
LevelFunction = Callable[[Value, Value], int]

MISSING = -1
_FLOOR = 1e-9


# --------------------------------------------------------------------------------------------
# Normalization and phonetic keys
# --------------------------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")
_NON_ALNUM = re.compile(r"[^0-9a-z ]+")


def normalize_text(value: object) -> str | None:
    """Lower case, accents removed, punctuation dropped, spaces collapsed; ``None`` for blank."""
    if value is None:
        return None
    text = str(value)
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = _SPACES.sub(" ", _NON_ALNUM.sub(" ", text.lower())).strip()
    return text or None


_SOUNDEX_CODES = {**dict.fromkeys("bfpv", "1"), **dict.fromkeys("cgjkqsxz", "2"), **dict.fromkeys("dt", "3"),
                  "l": "4", **dict.fromkeys("mn", "5"), "r": "6"}


def soundex(value: str | None) -> str | None:
    """American Soundex (``robert`` → ``R163``); ``None`` when there is no letter."""
    if not value:
        return None
    letters = [c for c in value.lower() if "a" <= c <= "z"]
    if not letters:
        return None
    first = letters[0]
    code = [first.upper()]
    previous = _SOUNDEX_CODES.get(first, "")
    for char in letters[1:]:
        digit = _SOUNDEX_CODES.get(char, "")
        if digit and digit != previous:
            code.append(digit)
            if len(code) == 4:
                break
        if char not in "hw":
            previous = digit
    return "".join(code).ljust(4, "0")


def digits(value: object) -> str | None:
    if value is None:
        return None
    only = "".join(c for c in str(value) if c.isdigit())
    return only or None


# --------------------------------------------------------------------------------------------
# Comparisons
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Comparison:
    """How one field of two records is compared, and the default m/u probabilities of its levels.

    ``labels[level]`` names each level (``labels[0]`` is the disagreement); ``m`` and ``u`` are the
    defaults used when the model is not trained. ``agree_from`` is the lowest level that counts as an
    agreement in explanations. ``level`` must be symmetric.
    """

    name: str
    field: str
    level: LevelFunction
    labels: tuple[str, ...]
    m: tuple[float, ...]
    u: tuple[float, ...]
    term_frequency: bool = False
    agree_from: int = 1
    #: The record field explanations show (default: ``field``), for comparisons of a derived value.
    shown: str | None = None

    @property
    def top(self) -> int:
        return len(self.labels) - 1

    def __post_init__(self) -> None:
        if not (len(self.labels) == len(self.m) == len(self.u)) or len(self.labels) < 2:
            raise ValueError(f"comparison {self.name}: labels, m and u must have the same length (≥ 2)")


def _is_missing(value: Value) -> bool:
    return value is None or value == "" or value == ()


def exact(field_name: str, *, name: str | None = None, m: tuple[float, float] = (0.05, 0.95),
          u: tuple[float, float] = (0.99, 0.01), term_frequency: bool = False) -> Comparison:
    """Two levels: different, equal. Multi-valued fields (tuples) agree when they share a value."""

    def level(a: Value, b: Value) -> int:
        if a is None or b is None:
            return MISSING
        if a == b:
            return 1
        if isinstance(a, tuple) or isinstance(b, tuple):
            left = set(a) if isinstance(a, tuple) else {a}
            return 1 if left.intersection(b if isinstance(b, tuple) else (b,)) else 0
        return 0

    return Comparison(name or field_name, field_name, level, ("different", "exact"), m, u, term_frequency)


def jaro_winkler(field_name: str, thresholds: Sequence[float] = (0.92, 0.88, 0.7), *, name: str | None = None,
                 m: tuple[float, ...] | None = None, u: tuple[float, ...] | None = None,
                 term_frequency: bool = False, agree_from: int | None = None) -> Comparison:
    """Levels: different, Jaro–Winkler ≥ each threshold (ascending), exact."""
    ordered = sorted(thresholds)
    bottom = ordered[0]
    labels = ["different", *(f"jaro_winkler>={t:g}" for t in ordered), "exact"]
    top = len(labels) - 1
    similarity = JaroWinkler.similarity

    def level(a: Value, b: Value) -> int:
        if a is None or b is None:
            return MISSING
        if a == b:
            return top
        score = similarity(a, b, score_cutoff=bottom)
        if not score:
            return 0
        result = 0
        for index, threshold in enumerate(ordered, start=1):
            if score >= threshold:
                result = index
        return result

    n = len(labels)
    return Comparison(name or field_name, field_name, level, tuple(labels), m or _default_m(n), u or _default_u(n),
                      term_frequency, agree_from if agree_from is not None else n - 2)


def edit_distance(field_name: str, distances: Sequence[int] = (1, 2), *, name: str | None = None,
                  m: tuple[float, ...] | None = None, u: tuple[float, ...] | None = None,
                  term_frequency: bool = False) -> Comparison:
    """Levels: different, Damerau–Levenshtein ≤ each distance (descending), exact."""
    ordered = sorted(distances, reverse=True)
    cutoff = ordered[0]
    labels = ("different", *(f"edits<={d}" for d in ordered), "exact")
    top = len(labels) - 1
    distance = DamerauLevenshtein.distance

    def level(a: Value, b: Value) -> int:
        if a is None or b is None:
            return MISSING
        if a == b:
            return top
        found = distance(a, b, score_cutoff=cutoff)
        if found > cutoff:
            return 0
        result = 0
        for index, limit in enumerate(ordered, start=1):
            if found <= limit:
                result = index
        return result

    n = len(labels)
    return Comparison(name or field_name, field_name, level, labels, m or _default_m(n), u or _default_u(n),
                      term_frequency, n - 2)


def date_of_birth(field_name: str, *, name: str | None = None, m: tuple[float, ...] | None = None,
                  u: tuple[float, ...] | None = None) -> Comparison:
    """Dates as ``YYYYMMDD`` strings. Levels: different, same year, one typo or day and month swapped, exact."""
    labels = ("different", "same_year", "one_typo", "exact")
    distance = DamerauLevenshtein.distance

    def level(a: Value, b: Value) -> int:
        if a is None or b is None:
            return MISSING
        if a == b:
            return 3
        if distance(a, b, score_cutoff=1) <= 1:
            return 2
        if a[:4] != b[:4]:
            return 0
        return 2 if a[4:6] == b[6:8] and a[6:8] == b[4:6] else 1

    return Comparison(name or field_name, field_name, level, labels, m or (0.05, 0.05, 0.1, 0.8),
                      u or (0.98, 0.015, 0.0005, 0.0001), agree_from=2)


def given_name(field_name: str, *, name: str | None = None, m: tuple[float, ...] | None = None,
               u: tuple[float, ...] | None = None, term_frequency: bool = False) -> Comparison:
    """Given names by the resolution matcher (``matching.given_name_level``): different, initial, typo,
    nickname (Bob ~ Robert, Chris ~ Christopher), exact. Values are folded (``matching.fold``)."""
    from upswing.resolution.matching import given_name_level

    levels = {"disagree": 0, "initial": 1, "typo": 2, "nickname": 3, "exact": 4}

    def level(a: Value, b: Value) -> int:
        if a is None or b is None:
            return MISSING
        if a == b:
            return 4
        found = given_name_level(a, b)
        return MISSING if found is None else levels[found]

    return Comparison(name or field_name, field_name, level, ("different", "initial", "typo", "nickname", "exact"),
                      m or (0.03, 0.02, 0.07, 0.08, 0.80), u or (0.95, 0.03, 0.01, 0.004, 0.006), term_frequency,
                      agree_from=2)


def family_name(field_name: str, *, name: str | None = None, m: tuple[float, ...] | None = None,
                u: tuple[float, ...] | None = None, term_frequency: bool = False) -> Comparison:
    """Family names by the resolution matcher (``matching.family_name_level``): different, typo, compound
    (``garcia lopez`` / ``garcia``), exact (also ``de la cruz`` / ``delacruz``)."""
    from upswing.resolution.matching import family_name_level

    levels = {"disagree": 0, "typo": 1, "compound": 2, "exact": 3}

    def level(a: Value, b: Value) -> int:
        if a is None or b is None:
            return MISSING
        if a == b:
            return 3
        found = family_name_level(a, b)
        return MISSING if found is None else levels[found]

    return Comparison(name or field_name, field_name, level, ("different", "typo", "compound", "exact"),
                      m or (0.03, 0.10, 0.02, 0.85), u or (0.975, 0.004, 0.002, 0.0015), term_frequency)


def _default_m(n: int) -> tuple[float, ...]:
    # Most true matches agree exactly, a few reach the lower levels.
    rest = [0.05 / (n - 1)] * (n - 1)
    return (*rest[:-1], 0.1, 0.85) if n > 2 else (0.1, 0.9)


def _default_u(n: int) -> tuple[float, ...]:
    levels = [0.9]
    share = 0.1
    for _ in range(n - 1):
        share /= 4
        levels.append(share)
    levels[0] = 1 - sum(levels[1:])
    return tuple(levels)


# --------------------------------------------------------------------------------------------
# Blocking
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BlockingRule:
    """Pairs of records with the same (non-missing) key are candidates.

    ``key`` gives one hashable key, a list of keys, or ``None``. Blocks whose pair count exceeds
    ``max_pairs`` are skipped (a key shared by half the file blocks nothing).
    """

    name: str
    key: Callable[[Record], Hashable | list[Hashable] | None]
    max_pairs: int = 250_000


def on(*fields: str, transform: Callable[[Any], Hashable | None] | None = None,
       name: str | None = None) -> BlockingRule:
    """A rule keyed on the values of ``fields`` (all present), each passed through ``transform``."""

    def key(record: Record) -> Hashable | None:
        values = []
        for field_name in fields:
            value = record.get(field_name)
            if transform is not None:
                value = transform(value)
            if _is_missing(value):
                return None
            values.append(value)
        return tuple(values) if len(values) > 1 else values[0]

    suffix = f"({transform.__name__})" if transform is not None else ""
    return BlockingRule(name or "+".join(fields) + suffix, key)


def _keys(rule: BlockingRule, record: Record) -> list[Hashable]:
    key = rule.key(record)
    if key is None:
        return []
    if isinstance(key, list):
        return [k for k in key if k is not None]
    return [key]


def _index(rule: BlockingRule, records: Sequence[Record]) -> dict[Hashable, list[int]]:
    index: dict[Hashable, list[int]] = {}
    for position, record in enumerate(records):
        for key in _keys(rule, record):
            bucket = index.get(key)
            if bucket is None:
                index[key] = [position]
            elif bucket[-1] != position:
                bucket.append(position)
    return index


def candidate_pairs(rules: Sequence[BlockingRule], left: Sequence[Record],
                    right: Sequence[Record] | None = None) -> list[tuple[int, int]]:
    """Distinct (left index, right index) pairs sharing a key of any rule, sorted.

    With ``right=None`` the records are deduplicated against themselves: pairs (i, j) with i < j.
    """
    found: set[int] = set()
    dedupe = right is None
    other = left if right is None else right
    width = len(other)
    for rule in rules:
        left_index = _index(rule, left)
        right_index = left_index if dedupe else _index(rule, other)
        for key, lefts in left_index.items():
            rights = right_index.get(key)
            if not rights:
                continue
            size = len(lefts) * (len(lefts) - 1) // 2 if dedupe else len(lefts) * len(rights)
            if size > rule.max_pairs:
                continue
            if dedupe:
                for n, i in enumerate(lefts):
                    base = i * width
                    found.update(base + j for j in lefts[n + 1:])
            else:
                for i in lefts:
                    base = i * width
                    found.update(base + j for j in rights)
    return [divmod(code, width) for code in sorted(found)]


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkageModel:
    """Comparisons, their m/u probabilities and the prior probability that two random records match.

    ``swaps`` names pairs of comparisons (such as first and last name) whose values may have been entered
    the wrong way round: the pair is compared both ways and the better-scoring orientation is kept.
    """

    comparisons: tuple[Comparison, ...]
    prior: float = 1e-4
    swaps: tuple[tuple[str, str], ...] = ()
    m: tuple[tuple[float, ...], ...] = ()
    u: tuple[tuple[float, ...], ...] = ()
    #: Term frequencies per comparison name (value → share of records), for ``term_frequency`` fields.
    frequencies: Mapping[str, Mapping[Value, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.m:
            object.__setattr__(self, "m", tuple(c.m for c in self.comparisons))
        if not self.u:
            object.__setattr__(self, "u", tuple(c.u for c in self.comparisons))

    def position(self, name: str) -> int:
        for index, comparison in enumerate(self.comparisons):
            if comparison.name == name:
                return index
        raise KeyError(name)

    def parameters(self) -> dict[str, Any]:
        """The trained (or default) parameters, as plain data for reports."""
        return {
            "prior": self.prior,
            "comparisons": {
                c.name: {label: {"m": round(m, 6), "u": round(u, 8)}
                         for label, m, u in zip(c.labels, self.m[k], self.u[k], strict=True)}
                for k, c in enumerate(self.comparisons)
            },
        }


def compare_pairs(model: LinkageModel, left: Sequence[Record], right: Sequence[Record],
                  pairs: Sequence[tuple[int, int]]) -> list[Gamma]:
    """The level vector of each pair (in the order of ``model.comparisons``)."""
    columns = compare_columns(model, left, right, pairs)
    return list(zip(*columns, strict=True)) if columns else [() for _ in pairs]


def compare_columns(model: LinkageModel, left: Sequence[Record], right: Sequence[Record],
                    pairs: Sequence[tuple[int, int]], *, swaps: bool = True) -> list[list[int]]:
    """The levels of every pair, one list per comparison."""
    lefts = [i for i, _ in pairs]
    rights = [j for _, j in pairs]
    columns = [_levels(c.level, c.field, c.field, left, right, lefts, rights) for c in model.comparisons]
    names = [c.name for c in model.comparisons]
    for first, second in model.swaps if swaps else ():
        i, j = names.index(first), names.index(second)
        a, b = model.comparisons[i], model.comparisons[j]
        crossed_i = _levels(a.level, a.field, b.field, left, right, lefts, rights)
        crossed_j = _levels(b.level, b.field, a.field, left, right, lefts, rights)
        straight_i, straight_j = columns[i], columns[j]
        enough = a.top + b.top - 2
        for row, (si, sj, xi, xj) in enumerate(zip(straight_i, straight_j, crossed_i, crossed_j, strict=True)):
            # Only a swap that explains both names, nearly exactly, beats the straight reading.
            if xi > 0 and xj > 0 and xi + xj >= enough and xi + xj > max(si, 0) + max(sj, 0):
                straight_i[row], straight_j[row] = xi, xj
    return columns


def _levels(level: LevelFunction, left_field: str, right_field: str, left: Sequence[Record],
            right: Sequence[Record], lefts: list[int], rights: list[int]) -> list[int]:
    left_values = [record.get(left_field) for record in left]
    right_values = [record.get(right_field) for record in right]
    return list(map(level, [left_values[i] for i in lefts], [right_values[j] for j in rights]))


def probability(weight: float) -> float:
    if weight > 60:
        return 1.0
    if weight < -60:
        return 0.0
    odds: float = 2.0 ** weight
    return odds / (1 + odds)


@dataclass(frozen=True, slots=True)
class ScoredPair:
    left: int
    right: int
    weight: float
    probability: float
    gamma: Gamma


def score_pairs(model: LinkageModel, left: Sequence[Record], right: Sequence[Record],
                pairs: Sequence[tuple[int, int]], gammas: Sequence[Gamma] | None = None) -> list[ScoredPair]:
    """Every pair with its weight and probability."""
    if gammas is None:
        gammas = compare_pairs(model, left, right, pairs)
    base = math.log2(model.prior / (1 - model.prior))
    log_ratio = [[math.log2(max(m, _FLOOR) / max(u, _FLOOR)) for m, u in zip(ms, us, strict=True)]
                 for ms, us in zip(model.m, model.u, strict=True)]
    tf_fields = [(k, c) for k, c in enumerate(model.comparisons)
                 if c.term_frequency and model.frequencies.get(c.name)]
    result: list[ScoredPair] = []
    for (i, j), gamma in zip(pairs, gammas, strict=True):
        weight = base
        for k, level in enumerate(gamma):
            if level != MISSING:
                weight += log_ratio[k][level]
        for k, comparison in tf_fields:
            if gamma[k] == comparison.top:
                value = left[i].get(comparison.field)
                frequency = model.frequencies[comparison.name].get(value)
                if frequency:
                    weight += math.log2(max(model.u[k][comparison.top], _FLOOR) / frequency)
        result.append(ScoredPair(i, j, weight, probability(weight), gamma))
    return result


def explain(model: LinkageModel, gamma: Gamma, left: Record | None = None,
            right: Record | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """(agreed, disagreed): comparison name → level label, with the two values when records are given
    (``"nickname: bob / robert"``; names compared the other way round say so). A comparison with a missing
    value is in neither."""
    crossed: dict[str, str] = {}
    if left is not None and right is not None:
        by_name = {c.name: (k, c) for k, c in enumerate(model.comparisons)}
        for first, second in model.swaps:
            (i, a), (j, b) = by_name[first], by_name[second]
            straight = (a.level(left.get(a.field), right.get(a.field)), b.level(left.get(b.field), right.get(b.field)))
            if straight != (gamma[i], gamma[j]):
                crossed[a.name], crossed[b.name] = b.field, a.field
    agreed: dict[str, str] = {}
    disagreed: dict[str, str] = {}
    for comparison, level in zip(model.comparisons, gamma, strict=True):
        if level == MISSING:
            continue
        label = comparison.labels[level]
        if left is not None and right is not None:
            other = crossed.get(comparison.name)
            if other is not None:
                label = f"{label} (swapped)"
            shown = comparison.shown or comparison.field
            label = f"{label}: {_show(left.get(shown))} / {_show(right.get(other or shown))}"
        (agreed if level >= comparison.agree_from else disagreed)[comparison.name] = label
    return agreed, disagreed


def _show(value: Value) -> str:
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value if v is not None)
    return str(value)


# --------------------------------------------------------------------------------------------
# Training (unsupervised)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrainingReport:
    sampled_pairs: int
    sessions: tuple[dict[str, Any], ...]
    prior: float


def term_frequencies(model: LinkageModel, left: Sequence[Record],
                     right: Sequence[Record] | None = None) -> dict[str, dict[Value, float]]:
    """Share of records with each value, for the comparisons that use term frequencies."""
    result: dict[str, dict[Value, float]] = {}
    records = list(left) if right is None else [*left, *right]
    for comparison in model.comparisons:
        if not comparison.term_frequency:
            continue
        counts = Counter(v for r in records if not _is_missing(v := r.get(comparison.field))
                         and not isinstance(v, tuple))
        total = sum(counts.values())
        if total:
            result[comparison.name] = {value: n / total for value, n in counts.items()}
    return result


def estimate_u(model: LinkageModel, left: Sequence[Record], right: Sequence[Record] | None = None, *,
               max_pairs: int = 300_000, seed: int = 0) -> tuple[LinkageModel, int]:
    """u probabilities from random pairs of records (almost all of which are non-matches)."""
    rng = random.Random(seed)  # noqa: S311 - sampling pairs, not security
    other = left if right is None else right
    if len(left) < 2 or len(other) < 1:
        return model, 0
    total = len(left) * (len(left) - 1) // 2 if right is None else len(left) * len(other)
    count = min(max_pairs, total)
    pairs: list[tuple[int, int]] = []
    if count == total and total <= max_pairs:
        if right is None:
            pairs = [(i, j) for i in range(len(left)) for j in range(i + 1, len(left))]
        else:
            pairs = [(i, j) for i in range(len(left)) for j in range(len(other))]
    else:
        draw = rng.random
        n_left, n_other = len(left), len(other)
        while len(pairs) < count:
            pairs.extend((i, j) for _ in range(count - len(pairs))
                         if (i := int(draw() * n_left)) != (j := int(draw() * n_other)) or right is not None)
    columns = compare_columns(model, left, other, pairs, swaps=False)
    u: list[tuple[float, ...]] = []
    for k, comparison in enumerate(model.comparisons):
        counts = Counter(columns[k])
        observed = sum(n for level, n in counts.items() if level != MISSING)
        if observed == 0:
            u.append(model.u[k])
            continue
        # Half a pair for levels never seen in the sample, so no level is impossible for a non-match.
        levels = [counts.get(level, 0) or 0.5 for level in range(comparison.top + 1)]
        total_levels = sum(levels)
        u.append(tuple(n / total_levels for n in levels))
    return replace(model, u=tuple(u)), len(pairs)


def expectation_maximisation(model: LinkageModel, gammas: Iterable[Gamma], *, exclude: Iterable[int] = (),
                             max_iterations: int = 50, tolerance: float = 1e-5,
                             ) -> tuple[tuple[tuple[float, ...], ...], float, int]:
    """m probabilities (u fixed) and the share of matches among the given pairs.

    Comparisons in ``exclude`` are left out of the likelihood and keep their m. Returns (m, λ, iterations).
    """
    patterns = Counter(gammas)
    skipped = set(exclude)
    active = [k for k in range(len(model.comparisons)) if k not in skipped]
    items = list(patterns.items())
    m = [list(levels) for levels in model.m]
    u = model.u
    share = 0.5
    iterations = 0
    for iterations in range(1, max_iterations + 1):  # noqa: B007
        match_total = 0.0
        pair_total = 0.0
        sums = {k: [0.0] * len(m[k]) for k in active}
        for gamma, count in items:
            p_match = share
            p_other = 1 - share
            for k in active:
                level = gamma[k]
                if level != MISSING:
                    p_match *= m[k][level]
                    p_other *= u[k][level]
            denominator = p_match + p_other
            r = p_match / denominator if denominator > 0 else 0.0
            weighted = r * count
            match_total += weighted
            pair_total += count
            for k in active:
                level = gamma[k]
                if level != MISSING:
                    sums[k][level] += weighted
        new_share = match_total / pair_total if pair_total else share
        change = abs(new_share - share)
        for k in active:
            total = sum(sums[k])
            if total > 0:
                new = [max(v / total, 1e-6) for v in sums[k]]
                change = max(change, *(abs(a - b) for a, b in zip(new, m[k], strict=True)))
                m[k] = new
        share = min(max(new_share, 1e-9), 1 - 1e-9)
        if change < tolerance:
            break
    return tuple(tuple(levels) for levels in m), share, iterations


def train(model: LinkageModel, left: Sequence[Record], right: Sequence[Record] | None = None, *,
          sessions: Sequence[str], u_pairs: int = 300_000, seed: int = 0) -> tuple[LinkageModel, TrainingReport]:
    """Estimate u (random pairs), m and the prior (EM on pairs agreeing exactly on each session's field).

    ``sessions`` names comparisons; each session takes the pairs that agree exactly on that comparison's
    field, leaves that comparison out, and estimates the m of the others. A comparison's m is the mean over
    the sessions that estimated it. The prior follows from the number of matches each session found,
    divided by the share of matches that agree on its field (the m of its exact level from the others).
    """
    if len(sessions) < 2:
        raise ValueError("training needs at least two sessions so that every comparison gets an m")
    other = left if right is None else right
    model = replace(model, frequencies=term_frequencies(model, left, right))
    model, sampled = estimate_u(model, left, right, max_pairs=u_pairs, seed=seed)
    estimates: dict[int, list[tuple[float, ...]]] = {}
    found: list[tuple[int, float, int]] = []
    reports: list[dict[str, Any]] = []
    for session in sessions:
        k = model.position(session)
        comparison = model.comparisons[k]
        pairs = candidate_pairs([on(comparison.field)], left, right)
        gammas = compare_pairs(model, left, other, pairs)
        m, share, iterations = expectation_maximisation(model, gammas, exclude=[k])
        for index, levels in enumerate(m):
            if index != k:
                estimates.setdefault(index, []).append(levels)
        found.append((k, share * len(pairs), len(pairs)))
        reports.append({"block": session, "pairs": len(pairs), "match_share": round(share, 6),
                        "iterations": iterations})
    m_final = list(model.m)
    for index, values in estimates.items():
        m_final[index] = tuple(sum(level) / len(values) for level in zip(*values, strict=True))
    model = replace(model, m=tuple(m_final))

    totals: list[float] = []
    for k, matches, _ in found:
        agree = model.m[k][model.comparisons[k].top]
        present = _present_share(left, model.comparisons[k].field) * _present_share(other, model.comparisons[k].field)
        if agree > 0 and present > 0:
            totals.append(matches / (agree * present))
    comparisons_total = len(left) * (len(left) - 1) / 2 if right is None else len(left) * len(other)
    if totals and comparisons_total:
        prior = min(max(sum(totals) / len(totals) / comparisons_total, 1e-12), 0.5)
        model = replace(model, prior=prior)
    return model, TrainingReport(sampled, tuple(reports), model.prior)


def _present_share(records: Sequence[Record], field_name: str) -> float:
    if not records:
        return 0.0
    return sum(1 for r in records if not _is_missing(r.get(field_name))) / len(records)


# --------------------------------------------------------------------------------------------
# Linking
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LinkResult:
    matches: list[ScoredPair]
    candidates: int


def link(model: LinkageModel, rules: Sequence[BlockingRule], left: Sequence[Record],
         right: Sequence[Record] | None = None, *, threshold: float = 0.5) -> LinkResult:
    """Pairs whose match probability is at least ``threshold`` (``right=None``: dedupe ``left``)."""
    pairs = candidate_pairs(rules, left, right)
    other = left if right is None else right
    scored = score_pairs(model, left, other, pairs)
    return LinkResult([p for p in scored if p.probability >= threshold], len(pairs))


# --------------------------------------------------------------------------------------------
# Leads
# --------------------------------------------------------------------------------------------

#: Share of leads assumed to have a duplicate in their portfolio; with the portfolio's size it gives the prior.
LEAD_DUPLICATE_RATE = 0.02
#: The prior never assumes a portfolio smaller than this (a tiny portfolio is no evidence of a high match rate).
LEAD_PRIOR_MIN_RECORDS = 1000
#: Term frequencies of names need this many leads to mean anything.
LEAD_TERM_FREQUENCY_MIN_RECORDS = 1000
#: A name block with more pairs than this is skipped (its pairs still meet through e-mail, phone, postal code).
LEAD_BLOCK_MAX_PAIRS = 50_000


def _location_level(a: Value, b: Value) -> int:
    """(state, city, postal code, street address) tuples: different state, same state, same city, same postal
    code, same street address (the same house number, the street at Jaro–Winkler ≥ 0.9, and the same city or
    postal code)."""
    if a is None or b is None:
        return MISSING
    state_a, city_a, postal_a, street_a = a
    state_b, city_b, postal_b, street_b = b
    if postal_a and postal_b and postal_a == postal_b:
        level = 3
    elif city_a and city_b and city_a == city_b and not (state_a and state_b and state_a != state_b):
        level = 2
    elif state_a and state_b:
        level = 1 if state_a == state_b else 0
    elif (city_a and city_b) or (postal_a and postal_b):
        level = 0
    else:
        return MISSING
    if level >= 2 and street_a and street_b and _same_street_address(street_a, street_b):
        return 4
    return level


def _same_street_address(a: str, b: str) -> bool:
    """The same house number (when both have one) and street names at Jaro–Winkler ≥ 0.9."""
    number_a, _, street_a = a.partition(" ") if a[:1].isdigit() else ("", "", a)
    number_b, _, street_b = b.partition(" ") if b[:1].isdigit() else ("", "", b)
    if number_a and number_b and number_a != number_b:
        return False
    return bool(JaroWinkler.similarity(street_a, street_b, score_cutoff=0.9))


_CONTACT_LABELS = ("different", "shared_by_another_given_name", "exact")


def _contact_level(a: Value, b: Value) -> int:
    """(addresses, given name, family name) tuples: different, shared by people with different given names (a
    household's e-mail or landline: no evidence either way), shared."""
    if a is None or b is None:
        return MISSING
    values_a, first_a, last_a = a
    values_b, first_b, last_b = b
    if set(values_a).isdisjoint(values_b):
        return 0
    if not (first_a and first_b):
        return 2
    from upswing.resolution.matching import given_name_level

    if given_name_level(first_a, first_b) != "disagree" or (
            last_a and last_b and given_name_level(first_a, last_b) != "disagree"
            and given_name_level(last_a, first_b) != "disagree"):
        return 2
    return 1


def lead_comparisons() -> tuple[Comparison, ...]:
    """Comparisons of two leads, with default m/u probabilities (m: how often two records of one person
    reach the level; u: how often two different people do, in a US consumer portfolio)."""
    return (
        given_name("first_name", term_frequency=True),
        family_name("last_name", term_frequency=True),
        exact("middle_initial", m=(0.1, 0.9), u=(0.92, 0.08)),
        Comparison("location", "location", _location_level,
                   ("different_state", "same_state", "same_city", "same_postal_code", "same_street_address"),
                   m=(0.08, 0.10, 0.12, 0.30, 0.40), u=(0.85, 0.13, 0.018, 0.0019, 0.0001), agree_from=2),
        Comparison("email", "contact_emails", _contact_level, _CONTACT_LABELS, m=(0.35, 0.01, 0.64),
                   u=(0.98999, 0.01, 0.00001), agree_from=2, shown="emails"),
        Comparison("phone", "contact_phones", _contact_level, _CONTACT_LABELS, m=(0.4, 0.01, 0.59),
                   u=(0.98999, 0.01, 0.00001), agree_from=2, shown="phones"),
        exact("linkedin", m=(0.05, 0.95), u=(1 - 1e-7, 1e-7)),
        jaro_winkler("employer", (0.9,), m=(0.35, 0.10, 0.55), u=(0.99, 0.004, 0.006), agree_from=1),
    )


def lead_model(record_count: int, records: Sequence[Record] | None = None) -> LinkageModel:
    """The lead model for a portfolio of ``record_count`` leads (term frequencies from ``records`` when the
    portfolio is large enough for them to mean something)."""
    prior = LEAD_DUPLICATE_RATE / max(record_count - 1, LEAD_PRIOR_MIN_RECORDS)
    model = LinkageModel(lead_comparisons(), prior=prior, swaps=(("first_name", "last_name"),))
    if records is not None and len(records) >= LEAD_TERM_FREQUENCY_MIN_RECORDS:
        model = replace(model, frequencies=term_frequencies(model, records))
    return model


def _names_key(record: Record) -> Hashable | None:
    first, last = soundex(record.get("first_name")), soundex(record.get("last_name"))
    return tuple(sorted((first, last))) if first and last else None


def _formal_last_key(record: Record) -> list[Hashable] | None:
    """(formal given name, phonetic family name) for every formal name the given name may stand for, and
    the same with the two names the other way round."""
    from upswing.core.nicknames import formal_names

    first, last = record.get("first_name"), record.get("last_name")
    if not first or not last:
        return None
    keys: list[Hashable] = []
    for given, family in ((first, last), (last, first)):
        code = soundex(family)
        keys.extend((formal, code) for formal in sorted(formal_names(given.split(" ")[0])))
    return keys


def _postal_first_key(record: Record) -> Hashable | None:
    location, first = record.get("location"), soundex(record.get("first_name"))
    return (location[2], first) if location and location[2] and first else None


def _last_state_key(record: Record) -> Hashable | None:
    location, last, first = record.get("location"), soundex(record.get("last_name")), record.get("first_name")
    return (location[0], last, first[0]) if location and location[0] and last and first else None


def _each(field_name: str) -> Callable[[Record], list[Hashable] | None]:
    def key(record: Record) -> list[Hashable] | None:
        values = record.get(field_name)
        return list(values) if values else None

    return key


def lead_blocking_rules() -> tuple[BlockingRule, ...]:
    """Candidate pairs of leads: a shared e-mail, phone or LinkedIn id; the same phonetic names in either
    order; a nickname of the same formal name with the same phonetic surname (either order); the same postal
    code and phonetic first name (a changed surname); the same state, phonetic surname and first initial."""
    return (
        BlockingRule("email", _each("emails")),
        BlockingRule("phone", _each("phones")),
        on("linkedin"),
        BlockingRule("names", _names_key, max_pairs=LEAD_BLOCK_MAX_PAIRS),
        BlockingRule("nickname+surname", _formal_last_key, max_pairs=LEAD_BLOCK_MAX_PAIRS),
        BlockingRule("postal_code+first_name", _postal_first_key, max_pairs=LEAD_BLOCK_MAX_PAIRS),
        BlockingRule("state+surname+initial", _last_state_key, max_pairs=LEAD_BLOCK_MAX_PAIRS),
    )


def lead_record(*, first_name: str | None, last_name: str | None, middle_name: str | None = None,
                emails: Iterable[str | None] = (), phones: Iterable[str | None] = (),
                linkedin_public_id: str | None = None, city: str | None = None, state: str | None = None,
                postal_code: str | None = None, address: str | None = None,
                employer: str | None = None) -> dict[str, Value]:
    """A lead's fields, normalized for ``lead_comparisons`` and ``lead_blocking_rules``."""
    from upswing.core.names import company_key
    from upswing.resolution.matching import fold

    middle = normalize_text(middle_name)
    email_set = tuple(sorted({e.strip().lower() for e in emails if e and e.strip()}))
    phone_set = tuple(sorted({d for p in phones if (d := digits(p))}))
    state_key = normalize_text(state)
    city_key = normalize_text(city)
    postal = digits(postal_code)
    street = normalize_text(address)
    location = (state_key, city_key, postal[:5] if postal else None, street)
    first, last = fold(first_name) or None, fold(last_name) or None
    return {
        "first_name": first,
        "last_name": last,
        "middle_initial": middle[0] if middle else None,
        "emails": email_set or None,
        "phones": phone_set or None,
        "contact_emails": (email_set, first, last) if email_set else None,
        "contact_phones": (phone_set, first, last) if phone_set else None,
        "linkedin": (linkedin_public_id or "").strip().lower() or None,
        "location": location if any(location) else None,
        "employer": company_key(employer) or None,
    }
