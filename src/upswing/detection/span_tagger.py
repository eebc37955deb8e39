"""Learned extraction of the new job title and the employer: a CRF token tagger combined with the rules.

The text is split into tokens (words, with possessive ``'s`` and punctuation apart) and a linear-chain CRF
(CRFsuite, through ``python-crfsuite``) tags each one ``B-TITLE``/``I-TITLE``/``B-ORG``/``I-ORG``/``O``. Its
features are the word and its shape, prefixes and suffixes, capitalization, the lexicons of the rules
(``extraction.TITLE_WORDS``, ``ORG_SUFFIXES``, …), the words two either side, where the token sits in its
sentence, the trigger words before and after it ("as", "at", "joined", "named", "promoted", "@", …), the
event label and, in the "rules" families (``FAMILIES``), the rules' own answer (whether the token lies inside
the title or the organization that ``extraction.extract_role`` returns), so the CRF can learn when to trust
the rules.

Which family, its c1/c2, and how its answer and the rules' are combined per field are chosen by
cross-validation (``train_span_tagger``): the rules alone, the CRF alone, or the CRF when its span's probability
(the smallest marginal of its tokens) is at least a threshold, else the rules. The shipped model
(``model/span_tagger.crfsuite``, CRFsuite's own binary format) and its metadata (``model/span_tagger.json``:
training data SHA-256, counts, the CRF settings, the chosen combination and the nested cross-validation
figures) are written by ``train_span_tagger``; docs/detection.md ("Learned extraction") has the figures:

    python benchmarks/extraction.py --train          # cross-validate, choose, retrain on the default data, ship
    python benchmarks/extraction.py --cv 5           # nested 5-fold CV figures of every candidate

``learned_role(text, label, rules)`` is what the text pipeline calls for ``new_employment`` and ``promotion``.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import lru_cache
from itertools import product
from pathlib import Path
from typing import Any

import pycrfsuite

from upswing.detection.extraction import (
    FIELD_MODIFIERS,
    FUNCTION_WORDS,
    ORG_REFERENCES,
    ORG_SUFFIXES,
    TITLE_WORDS,
    Role,
    extract_role,
)

__all__ = [
    "DEFAULT_DATA",
    "DEFAULT_EXTRA",
    "LEARNED_LABELS",
    "METADATA_PATH",
    "MODEL_PATH",
    "Choice",
    "FieldChoice",
    "Item",
    "ModelMismatchError",
    "Shipped",
    "Span",
    "SpanTagger",
    "Tagged",
    "cross_validate_extraction",
    "data_sha256",
    "features",
    "gold_tags",
    "learned_role",
    "load_model",
    "load_shipped",
    "normalize",
    "read_items",
    "tokenize",
    "train_span_tagger",
]

#: The labels whose title and organization the tagger reads.
LEARNED_LABELS = frozenset({"new_employment", "promotion"})
FIELDS = ("title", "organization")

_MODEL_DIR = Path(__file__).parent / "model"
MODEL_PATH = _MODEL_DIR / "span_tagger.crfsuite"
METADATA_PATH = _MODEL_DIR / "span_tagger.json"

_REPO = Path(__file__).resolve().parents[3]
#: Labelled real texts: evaluated by cross-validation and trained on (the README of each says how).
DEFAULT_DATA: tuple[Path, ...] = (
    _REPO.parent / "shared" / "data" / "signals-dev" / "signals_dev.jsonl",
    _REPO.parent / "shared" / "data" / "signals-train" / "signals_train.jsonl",
)
#: Hand-written phrasings: in every training fold, never evaluated (the rules were fixed on them).
DEFAULT_EXTRA: tuple[Path, ...] = tuple(sorted((_REPO / "tests" / "detection" / "data").glob("roles_heldout*.jsonl")))

#: Feature set version: a model trained with other features must not be used with these.
FEATURES_VERSION = 1
MAX_ITERATIONS = 150
#: Hyperparameter grid searched by (inner) cross-validation: L1 and L2 penalties.
C1_GRID = (0.05, 0.3)
C2_GRID = (0.01, 0.3)
#: Span-probability thresholds tried for "CRF if at least τ, else rules" (above 1: rules first, CRF if none).
#: A field the best tag sequence leaves empty is read from the marginals when a token's B- tag has at least
#: this probability (its span then has a low probability, and a threshold sends it after the rules).
FORCED_FLOOR = 0.05
THRESHOLDS = (0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.01)

#: CRF families: "plain" has no rule features; "rules" has them on every item; "rules_oos" has them only on the
#: items whose rule answers are out of sample (not the dev file or the hand-written sets, which the rules were
#: written while reading; their answers there are ~99% right and would teach the CRF to copy the rules), the
#: other items train it without them. Both rule families see the rules' answer as features when they tag.
FAMILIES = ("plain", "rules", "rules_oos")
#: Sources whose items the rules were written on (the ``extra`` sets too, always).
RULES_FITTED_ON = ("dev",)

# --------------------------------------------------------------------------------------------------
# Tokens and features
# --------------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"(?:[A-Za-z]\.){2,}|\w+(?:[&\-/.+]\w+|['’](?![sS]\b)\w+)*|['’][sS]\b|\S")
_SENTENCE_END = frozenset({".", "!", "?"})


def _words(words: str) -> frozenset[str]:
    return frozenset(words.split())


_ABBREVIATIONS = _words("inc corp co cos ltd jr sr bros plc st dr mr mrs ms prof")
_TRIGGERS = _words("""
as at @ joined joins join joining named names name appointed appoints appoint promoted promotes promotion
elected elects hired hires hire succeed succeeds succeeded succeeding become became becomes becoming new
position role job post to with for of by from in started starting start starts accepted accepting offer
moved moving welcomes welcomed welcome president chief was is has will be been
""")
_DETERMINERS = _words("a an the my his her their our its your this")
_LEGAL = _words("inc incorporated llc llp lp ltd limited corp corporation co cos plc gmbh ag sa nv bv")
_MONTHS = _words("jan january feb february mar march apr april may jun june jul july aug august sep sept "
                    "september oct october nov november dec december")
_YEAR = re.compile(r"^(?:19|20)\d\d$")


@dataclass(frozen=True, slots=True)
class Token:
    start: int
    end: int
    text: str


def tokenize(text: str) -> list[Token]:
    """Words (``'s`` split off, "U.S." and "bynd.bio" kept whole) and single punctuation marks, with offsets."""
    return [Token(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]


def _shape(word: str) -> str:
    out = []
    for ch in word[:8]:
        out.append("X" if ch.isupper() else "x" if ch.islower() else "d" if ch.isdigit() else ch)
    return "".join(out)


_REPEATS = re.compile(r"(.)\1+")
#: The flags of the neighbouring words that are features too.
_CONTEXT_FLAGS = frozenset({"cap", "tw", "os", "fw", "det", "punct"})


def _short_shape(shape: str) -> str:
    return _REPEATS.sub(r"\1", shape)


def _title_word(lower: str, raw: str) -> bool:
    if lower in TITLE_WORDS or (lower.endswith("s") and lower[:-1] in TITLE_WORDS):
        return True
    core = raw.replace(".", "")
    if 2 <= len(core) <= 5 and core.isupper() and core.isalpha():
        return True
    return "-" in lower and any(part in TITLE_WORDS for part in lower.split("-"))


def _word_flags(lower: str, raw: str) -> list[str]:
    flags = []
    if raw[:1].isupper():
        flags.append("cap")
    if raw.isupper() and len(raw) > 1:
        flags.append("upper")
    if raw[:1].isdigit():
        flags.append("digit")
    if not raw[:1].isalnum():
        flags.append("punct")
    if _title_word(lower, raw):
        flags.append("tw")
    if lower in FUNCTION_WORDS:
        flags.append("fw")
    if lower in FIELD_MODIFIERS:
        flags.append("fm")
    if lower in ORG_SUFFIXES:
        flags.append("os")
    if lower in _LEGAL:
        flags.append("legal")
    if lower in ORG_REFERENCES:
        flags.append("oref")
    if lower in _DETERMINERS:
        flags.append("det")
    if lower in _MONTHS or _YEAR.match(lower):
        flags.append("time")
    return flags


def _span_tags(tokens: Sequence[Token], text: str, value: str | None) -> list[str]:
    """B/I/O over the tokens for the first occurrence of ``value`` (whitespace-insensitive) in ``text``."""
    tags = ["O"] * len(tokens)
    span = _locate(text, value)
    if span is None:
        return tags
    start, end = span
    inside = [i for i, tok in enumerate(tokens) if tok.start < end and tok.end > start]
    for n, i in enumerate(inside):
        tags[i] = "B" if n == 0 else "I"
    return tags


def _locate(text: str, value: str | None) -> tuple[int, int] | None:
    if not value:
        return None
    at = text.find(value)
    if at >= 0:
        return at, at + len(value)
    words = value.split()
    if not words:
        return None
    match = re.search(r"\s+".join(re.escape(w) for w in words), text)
    if match is None:  # the rules translate curly quotes and dashes; compare on the same footing
        match = re.search(r"\s+".join(re.escape(w) for w in words), _plain(text))
    return (match.start(), match.end()) if match else None


_PLAIN = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " ",
                        "\u2013": "-", "\u2014": "-"})


def _plain(text: str) -> str:
    return text.translate(_PLAIN)


def features(text: str, label: str, rules: Role | None, *, use_rules: bool = True,
             tokens: Sequence[Token] | None = None) -> list[list[str]]:
    """One list of binary features per token (``use_rules``: include the rules' answer as features)."""
    tokens = tokenize(text) if tokens is None else tokens
    n = len(tokens)
    lowers = [t.text.lower() for t in tokens]
    shapes = [_shape(t.text) for t in tokens]
    flags = [_word_flags(lowers[i], tokens[i].text) for i in range(n)]
    shorts = [_short_shape(shape) for shape in shapes]
    context_flags = [[flag for flag in token_flags if flag in _CONTEXT_FLAGS] for token_flags in flags]
    # sentence index and position in the sentence
    sentence, position = [0] * n, [0] * n
    s = p = 0
    for i, tok in enumerate(tokens):
        if i > 0 and (lowers[i - 1] in _SENTENCE_END or "\n" in text[tokens[i - 1].end:tok.start]):
            s, p = s + 1, 0
        sentence[i], position[i] = s, p
        p += 1
    rule_title = _span_tags(tokens, text, rules.title) if rules is not None and use_rules else None
    rule_org = _span_tags(tokens, text, rules.organization) if rules is not None and use_rules else None
    out: list[list[str]] = []
    for i in range(n):
        w = lowers[i]
        f = ["bias", "w=" + w, "sh=" + shapes[i], "ss=" + shorts[i], "p3=" + w[:3], "s3=" + w[-3:],
             "s2=" + w[-2:], "lab=" + label, f"sent={min(sentence[i], 3)}", f"pos={min(position[i], 6)}"]
        f.extend(flags[i])
        if position[i] == 0:
            f.append("sfirst")
        if i == 0:
            f.append("BOS")
        if i == n - 1:
            f.append("EOS")
        cap = "cap" in flags[i]
        if cap and ((i > 0 and "cap" in flags[i - 1]) or (i + 1 < n and "cap" in flags[i + 1])):
            f.append("caprun")
        for d in (-2, -1, 1, 2):
            j = i + d
            if 0 <= j < n:
                f.append(f"{d}:w={lowers[j]}")
                f.append(f"{d}:ss={shorts[j]}")
                f.extend(f"{d}:{flag}" for flag in context_flags[j])
            else:
                f.append(f"{d}:none")
        if i > 0:
            f.append(f"-1|0={lowers[i - 1]}|{w}")
        # the nearest trigger words to the left (within 6 tokens of the sentence) and to the right (within 3)
        seen = 0
        for j in range(i - 1, max(-1, i - 7), -1):
            if sentence[j] != sentence[i]:
                break
            if lowers[j] in _TRIGGERS:
                f.append("tl=" + lowers[j])
                if seen == 0:
                    f.append(f"tl1={lowers[j]}@{min(i - j, 4)}")
                seen += 1
                if seen == 2:
                    break
        for j in range(i + 1, min(n, i + 4)):
            if lowers[j] in _TRIGGERS:
                f.append("tr=" + lowers[j])
                break
        if rule_title is not None and rule_org is not None and rules is not None:
            f.append("rt=" + rule_title[i])
            f.append("ro=" + rule_org[i])
            for d in (-1, 1):
                j = i + d
                if 0 <= j < n:
                    f.append(f"{d}:rt={rule_title[j]}")
                    f.append(f"{d}:ro={rule_org[j]}")
            if rules.title is None:
                f.append("rt_none")
            if rules.organization is None:
                f.append("ro_none")
        out.append(f)
    return out


def gold_tags(text: str, title: str | None, organization: str | None,
              tokens: Sequence[Token] | None = None) -> list[str]:
    """BIO tags of the labelled title and organization (first occurrence; the title wins an overlap)."""
    tokens = tokenize(text) if tokens is None else tokens
    org = _span_tags(tokens, text, organization)
    ttl = _span_tags(tokens, text, title)
    return [f"{t}-TITLE" if t != "O" else (f"{o}-ORG" if o != "O" else "O") for t, o in zip(ttl, org, strict=True)]


# --------------------------------------------------------------------------------------------------
# The tagger
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Span:
    text: str
    probability: float  # the smallest marginal probability of its tokens' tags


@dataclass(frozen=True, slots=True)
class Tagged:
    title: Span | None
    organization: Span | None


def _decode(tagger: pycrfsuite.Tagger, text: str, tokens: Sequence[Token], xseq: list[list[str]]) -> Tagged:
    if not tokens:
        return Tagged(None, None)
    tagger.set(xseq)
    tags = tagger.tag()
    best: dict[str, Span] = {}
    i = 0
    while i < len(tags):
        tag = tags[i]
        if tag == "O":
            i += 1
            continue
        kind = tag[2:]
        j = i
        while j + 1 < len(tags) and tags[j + 1] == "I-" + kind:
            j += 1
        probability = min(tagger.marginal(tags[k], k) for k in range(i, j + 1))
        span = Span(_span_text(text, tokens, i, j), probability)
        if kind not in best or probability > best[kind].probability:
            best[kind] = span
        i = j + 1
    # A field the best sequence leaves out: its likeliest span by the marginals (a low probability says so).
    for kind in ("TITLE", "ORG"):
        if kind in best:
            continue
        begin = [tagger.marginal("B-" + kind, k) for k in range(len(tags))]
        i = max(range(len(tags)), key=begin.__getitem__)
        if begin[i] < FORCED_FLOOR:
            continue
        inside = [begin[i]]
        j = i
        while j + 1 < len(tags) and (p := tagger.marginal("I-" + kind, j + 1)) >= FORCED_FLOOR:
            inside.append(p)
            j += 1
        best[kind] = Span(_span_text(text, tokens, i, j), min(inside))
    return Tagged(best.get("TITLE"), best.get("ORG"))


def _span_text(text: str, tokens: Sequence[Token], i: int, j: int) -> str:
    end = tokens[j].end
    # "Acme Inc." : keep an abbreviation's dot, as written
    if j + 1 < len(tokens) and tokens[j + 1].text == "." and tokens[j + 1].start == end and (
            tokens[j].text.lower() in _ABBREVIATIONS or (len(tokens[j].text) == 1 and tokens[j].text.isupper())):
        end += 1
    return text[tokens[i].start:end]


class SpanTagger:
    """A trained CRFsuite model (one tagger per thread: CRFsuite taggers keep state between calls)."""

    def __init__(self, path: Path, *, use_rules: bool = True) -> None:
        self.path = path
        self.use_rules = use_rules
        self._local = threading.local()
        self._tagger()  # fail now if the file is not a model

    def _tagger(self) -> pycrfsuite.Tagger:
        tagger = getattr(self._local, "tagger", None)
        if tagger is None:
            tagger = pycrfsuite.Tagger()
            tagger.open(str(self.path))
            self._local.tagger = tagger
        return tagger

    def tag(self, text: str, label: str, rules: Role | None = None) -> Tagged:
        if self.use_rules and rules is None:
            rules = extract_role(text, label)
        tokens = tokenize(text)
        return _decode(self._tagger(), text, tokens, features(text, label, rules, use_rules=self.use_rules,
                                                              tokens=tokens))


@dataclass(frozen=True, slots=True)
class FieldChoice:
    """Where a field's answer comes from: ``rules``; ``model`` (the CRF); or ``model_else_rules``: the CRF's
    span when its probability is at least ``threshold``, else the rules' answer, else the CRF's."""

    mode: str
    threshold: float = 0.0

    def pick(self, crf: Span | None, rules: str | None) -> str | None:
        if self.mode == "rules":
            return rules
        if self.mode == "model":
            return crf.text if crf else None
        if crf is not None and crf.probability >= self.threshold:
            return crf.text
        return rules or (crf.text if crf else None)


@dataclass(frozen=True, slots=True)
class Choice:
    """A candidate extractor: the CRF family and hyperparameters, and per field where the answer comes from."""

    family: str  # "plain" (no rule features), "rules" (rule features) or "rules_oos" (see FAMILIES)
    c1: float
    c2: float
    title: FieldChoice
    organization: FieldChoice

    def combine(self, tagged: Tagged, rules: Role) -> Role:
        return Role(self.title.pick(tagged.title, rules.title),
                    self.organization.pick(tagged.organization, rules.organization))

    @property
    def use_rules(self) -> bool:
        return self.family != "plain"

    def needs_model(self) -> bool:
        return self.title.mode != "rules" or self.organization.mode != "rules"


# --------------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    text: str
    label: str
    title: str | None
    organization: str | None
    source: str  # the file it came from: "dev", "train", or the file's stem


def _source_name(path: Path) -> str:
    return path.stem.removeprefix("signals_")


def read_items(paths: Iterable[Path]) -> list[Item]:
    """The new-job and promotion items with a labelled title or organization."""
    items = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            if row["label"] in LEARNED_LABELS and (row.get("title") or row.get("organization")):
                items.append(Item(str(row["id"]), row["text"], row["label"], row.get("title") or None,
                                  row.get("organization") or None, _source_name(path)))
    return items


def data_sha256(paths: Iterable[Path]) -> str:
    """SHA-256 over the files' bytes, in order (each file's name and length first)."""
    digest = hashlib.sha256()
    for path in paths:
        content = path.read_bytes()
        digest.update(f"{path.name}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()


@dataclass(slots=True)
class _Prepared:
    item: Item
    tokens: list[Token]
    rules: Role
    x_plain: list[list[str]]
    x_rules: list[list[str]]
    y: list[str]
    rules_fitted: bool  # the rules were written while reading this item: their answer on it is in-sample

    def x(self, family: str, *, training: bool = False) -> list[list[str]]:
        if family == "plain" or (training and family == "rules_oos" and self.rules_fitted):
            return self.x_plain
        return self.x_rules


def _prepare(items: Sequence[Item], rules_fitted_on: Iterable[str] = RULES_FITTED_ON,
             *, fitted: bool = False) -> list[_Prepared]:
    fitted_sources = frozenset(rules_fitted_on)
    out = []
    for item in items:
        tokens = tokenize(item.text)
        rules = extract_role(item.text, item.label)
        out.append(_Prepared(item, tokens, rules,
                             features(item.text, item.label, rules, use_rules=False, tokens=tokens),
                             features(item.text, item.label, rules, use_rules=True, tokens=tokens),
                             gold_tags(item.text, item.title, item.organization, tokens),
                             fitted or item.source in fitted_sources))
    return out


_NON_WORD = re.compile(r"[\W_]+")


def normalize(value: str | None) -> str:
    """The benchmark's matching rule: case, punctuation and spacing ignored."""
    return " ".join(_NON_WORD.sub(" ", value.casefold()).split()) if value else ""


# --------------------------------------------------------------------------------------------------
# Training and cross-validation
# --------------------------------------------------------------------------------------------------


def _train(rows: Sequence[_Prepared], family: str, c1: float, c2: float, path: Path) -> None:
    trainer = pycrfsuite.Trainer(verbose=False)
    for row in rows:
        trainer.append(row.x(family, training=True), row.y)
    trainer.set_params({"c1": c1, "c2": c2, "max_iterations": MAX_ITERATIONS,
                        "feature.possible_transitions": True})
    trainer.train(str(path))


def _tag_rows(path: Path, rows: Sequence[_Prepared], family: str) -> list[Tagged]:
    tagger = pycrfsuite.Tagger()
    tagger.open(str(path))
    try:
        return [_decode(tagger, row.item.text, row.tokens, row.x(family)) for row in rows]
    finally:
        tagger.close()


def _folds(rows: Sequence[_Prepared], k: int, seed: int) -> list[int]:
    """A fold number per row, stratified by source file (each file shuffled, then dealt round-robin)."""
    rng = random.Random(seed)  # noqa: S311  (fold assignment, not security)
    fold = [0] * len(rows)
    by_source: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        by_source.setdefault(row.item.source, []).append(i)
    offset = 0
    for source in sorted(by_source):
        indices = by_source[source]
        rng.shuffle(indices)
        for n, i in enumerate(indices):
            fold[i] = (n + offset) % k
        offset += len(indices)
    return fold


_Grid = tuple[str, float, float]  # family, c1, c2


def _oof(rows: Sequence[_Prepared], extra: Sequence[_Prepared], k: int, seed: int, grid: Sequence[_Grid],
         tmp: Path, progress: Callable[[], None] | None = None) -> dict[_Grid, list[Tagged]]:
    """Out-of-fold CRF answers for every row, for every grid point (``extra`` in every training fold)."""
    fold = _folds(rows, k, seed)
    out: dict[_Grid, list[Tagged]] = {g: [Tagged(None, None)] * len(rows) for g in grid}
    for f in range(k):
        train = [r for r, g in zip(rows, fold, strict=True) if g != f] + list(extra)
        test = [i for i, g in enumerate(fold) if g == f]
        if not test:
            continue
        for point in grid:
            family, c1, c2 = point
            path = tmp / f"oof-{f}-{family}-{c1}-{c2}.crfsuite"
            _train(train, family, c1, c2, path)
            for i, tagged in zip(test, _tag_rows(path, [rows[i] for i in test], family), strict=True):
                out[point][i] = tagged
            path.unlink()
            if progress:
                progress()
    return out


def _field_hits(rows: Sequence[_Prepared], field: str, answers: Sequence[str | None]) -> int:
    return sum(1 for row, got in zip(rows, answers, strict=True)
               if getattr(row.item, field) and normalize(got) == normalize(getattr(row.item, field)))


def _best_field(rows: Sequence[_Prepared], field: str, tagged: Sequence[Tagged],
                modes: Sequence[str]) -> tuple[int, FieldChoice]:
    best: tuple[int, FieldChoice] | None = None
    for mode in modes:
        for threshold in (THRESHOLDS if mode == "model_else_rules" else (0.0,)):
            choice = FieldChoice(mode, threshold)
            hits = _field_hits(rows, field, [choice.pick(getattr(t, field), getattr(r.rules, field))
                                             for t, r in zip(tagged, rows, strict=True)])
            if best is None or hits > best[0]:  # ties: the earlier (simpler) mode, the lower threshold
                best = (hits, choice)
    assert best is not None
    return best


#: Which items the choices (c1/c2, thresholds, modes) are scored on: "all", or "oos", only the items whose rule
#: answers are out of sample (on the others the rules are ~99% right, which says little about trusting them on
#: new text). "oos" was tried and measured worse (docs/detection.md, "Learned extraction"): fewer items to
#: choose on make noisier choices.
SELECT_ON = "all"

#: The candidates compared: which CRF families they may use and which field modes.
CANDIDATES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "rules": ((), ("rules",)),
    "crf": (("plain",), ("model",)),
    "crf_rules": (("rules",), ("model",)),
    "crf_rules_oos": (("rules_oos",), ("model",)),
    "crf_else_rules": (("plain",), ("model_else_rules",)),
    "crf_rules_else_rules": (("rules",), ("model_else_rules",)),
    "crf_rules_oos_else_rules": (("rules_oos",), ("model_else_rules",)),
    # per field: the rules, the CRF, or the CRF above a threshold else the rules, with any one CRF family
    "selected": (FAMILIES, ("rules", "model", "model_else_rules")),
}


def _select(name: str, rows: Sequence[_Prepared], oof: dict[_Grid, list[Tagged]], select_on: str = SELECT_ON) -> Choice:
    """The candidate's best configuration on out-of-fold answers (``rows`` are the ones ``oof`` answers),
    counting the hits on the items whose rule answers are out of sample (``select_on="oos"``, see
    ``SELECT_ON``; all items when there is none) or on all of them (``"all"``)."""
    families, modes = CANDIDATES[name]
    rules_only = Choice("plain", 0.0, 0.0, FieldChoice("rules"), FieldChoice("rules"))
    if not families:
        return rules_only
    keep = [i for i, row in enumerate(rows) if select_on == "all" or not row.rules_fitted] or list(range(len(rows)))
    scored = [rows[i] for i in keep]
    best: tuple[int, Choice] | None = None
    for point, all_tagged in oof.items():
        family, c1, c2 = point
        if family not in families:
            continue
        tagged = [all_tagged[i] for i in keep]
        title_hits, title = _best_field(scored, "title", tagged, modes)
        org_hits, org = _best_field(scored, "organization", tagged, modes)
        if best is None or title_hits + org_hits > best[0]:
            best = (title_hits + org_hits, Choice(family, c1, c2, title, org))
    assert best is not None
    return best[1]


def _oof_answers(choice: Choice, rows: Sequence[_Prepared], oof: dict[_Grid, list[Tagged]]) -> list[Role]:
    tagged = oof.get((choice.family, choice.c1, choice.c2), [Tagged(None, None)] * len(rows))
    return [choice.combine(t, r.rules) for t, r in zip(tagged, rows, strict=True)]


def _select_on_text(select_on: str, rules_fitted_on: Sequence[str]) -> str:
    if select_on == "all":
        return "all items"
    return f"the items the rules were not written on (not {', '.join(rules_fitted_on) or 'none'}, not extra)"


def _grid(families: Iterable[str], c1s: Sequence[float], c2s: Sequence[float]) -> list[_Grid]:
    return [(u, c1, c2) for u in families for c1, c2 in product(c1s, c2s)]


def _score(rows: Sequence[_Prepared], answers: Sequence[Role]) -> dict[str, Any]:
    def rate(hits: int, total: int) -> float:
        return round(hits / total, 4) if total else 0.0

    def figures(subset: list[int]) -> dict[str, Any]:
        sub = [rows[i] for i in subset]
        got = [answers[i] for i in subset]
        titles = sum(1 for r in sub if r.item.title)
        orgs = sum(1 for r in sub if r.item.organization)
        th = _field_hits(sub, "title", [a.title for a in got])
        oh = _field_hits(sub, "organization", [a.organization for a in got])
        # an answer for a field labelled null (the text does not state it): not counted above, a false value
        extra = sum(1 for r, a in zip(sub, got, strict=True) for field in FIELDS
                    if not getattr(r.item, field) and getattr(a, field))
        return {"fields_match": rate(th + oh, titles + orgs), "title_match": rate(th, titles),
                "organization_match": rate(oh, orgs), "items": len(sub), "titles": titles, "organizations": orgs,
                "null_fields": 2 * len(sub) - titles - orgs, "null_fields_answered": extra}

    result = figures(list(range(len(rows))))
    sources = sorted({r.item.source for r in rows})
    result["by_source"] = {s: figures([i for i, r in enumerate(rows) if r.item.source == s]) for s in sources}
    return result


def cross_validate_extraction(folds: int = 5, seed: int = 13, data: Sequence[Path] | None = None, *,
                              extra: Sequence[Path] | None = None, inner_folds: int = 3,
                              c1_grid: Sequence[float] = C1_GRID, c2_grid: Sequence[float] = C2_GRID,
                              select_on: str = SELECT_ON, rules_fitted_on: Sequence[str] = RULES_FITTED_ON,
                              progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Nested ``folds``-fold cross-validation of every candidate extractor over the items of ``data``
    (default: the dev and train files), folds stratified by file; ``extra`` (default: the hand-written
    ``roles_heldout*`` sets) is in every training fold and never scored.

    Each item is answered by a model that never saw it, and every choice (c1/c2, threshold, per-field mode,
    and for ``selected`` the candidate) is made by an inner ``inner_folds``-fold CV on the outer training
    folds only, scored on the items of ``select_on`` (see ``SELECT_ON``). Returns the figures of ``selected``
    (fields_match, title_match, organization_match, by_source {source: figures}), plus ``candidates``
    {name: fields_match}, ``candidates_detail`` {name: figures} and ``chosen`` {name: the configuration each
    outer fold picked}.
    """
    data = DEFAULT_DATA if data is None else data
    extra = DEFAULT_EXTRA if extra is None else extra
    if select_on not in ("oos", "all"):
        raise ValueError(f"select_on must be 'oos' or 'all', not {select_on!r}")
    rows = _prepare(read_items(data), rules_fitted_on)
    extras = _prepare(read_items(extra), fitted=True)
    if len(rows) < folds:
        raise ValueError(f"{len(rows)} items cannot be split into {folds} folds")
    grid = _grid(FAMILIES, c1_grid, c2_grid)
    fold = _folds(rows, folds, seed)
    answers: dict[str, list[Role]] = {name: [Role(None, None)] * len(rows) for name in CANDIDATES}
    chosen: dict[str, list[dict[str, Any]]] = {name: [] for name in CANDIDATES}
    with tempfile.TemporaryDirectory(prefix="span-cv-") as tmp_name:
        tmp = Path(tmp_name)
        for f in range(folds):
            train = [r for r, g in zip(rows, fold, strict=True) if g != f]
            test = [i for i, g in enumerate(fold) if g == f]
            if progress:
                progress(f"fold {f + 1}/{folds}: inner {inner_folds}-fold CV over {len(grid)} settings")
            oof = _oof(train, extras, inner_folds, seed + 1 + f, grid, tmp)
            tagged_by_point: dict[_Grid, list[Tagged]] = {}
            for name in CANDIDATES:
                choice = _select(name, train, oof, select_on)
                chosen[name].append(asdict(choice))
                test_rows = [rows[i] for i in test]
                if choice.needs_model():
                    point = (choice.family, choice.c1, choice.c2)
                    if point not in tagged_by_point:
                        path = tmp / f"outer-{f}.crfsuite"
                        _train([*train, *extras], choice.family, choice.c1, choice.c2, path)
                        tagged_by_point[point] = _tag_rows(path, test_rows, choice.family)
                    tagged = tagged_by_point[point]
                else:
                    tagged = [Tagged(None, None)] * len(test)
                for i, t, r in zip(test, tagged, test_rows, strict=True):
                    answers[name][i] = choice.combine(t, r.rules)
    detail = {name: _score(rows, answers[name]) for name in CANDIDATES}
    result = dict(detail["selected"])
    result.update({
        "candidates": {name: figures["fields_match"] for name, figures in detail.items()},
        "candidates_detail": detail,
        "chosen": chosen,
        "protocol": (f"nested CV: outer {folds}-fold (seed {seed}, stratified by file) over {len(rows)} items of "
                     f"{', '.join(p.name for p in data)}; inner {inner_folds}-fold CV on each outer training part "
                     f"chooses c1 in {list(c1_grid)}, c2 in {list(c2_grid)}, thresholds and modes, scored on "
                     f"{_select_on_text(select_on, rules_fitted_on)}; "
                     f"{len(extras)} extra items ({', '.join(p.name for p in extra)}) in every training fold"),
    })
    return result


@dataclass(frozen=True, slots=True)
class TrainResult:
    model_path: Path
    metadata_path: Path
    metadata: dict[str, Any]


def train_span_tagger(data: Sequence[Path] | None = None, extra: Sequence[Path] | None = None, *,
                      output: Path = _MODEL_DIR, folds: int = 5, seed: int = 13,
                      cv: dict[str, Any] | None = None, c1_grid: Sequence[float] = C1_GRID,
                      c2_grid: Sequence[float] = C2_GRID, select_on: str = SELECT_ON,
                      rules_fitted_on: Sequence[str] = RULES_FITTED_ON,
                      progress: Callable[[str], None] | None = None) -> TrainResult:
    """Choose the extractor by ``folds``-fold CV over ``data`` (every candidate, c1/c2, thresholds, per-field
    mode; ``extra`` in every training fold), train it on all of ``data`` + ``extra`` and write
    ``span_tagger.crfsuite`` and ``span_tagger.json`` to ``output``. ``cv`` (the result of
    ``cross_validate_extraction`` on the same data) is stored in the metadata as the honest figure.
    """
    data = DEFAULT_DATA if data is None else data
    extra = DEFAULT_EXTRA if extra is None else extra
    rows = _prepare(read_items(data), rules_fitted_on)
    extras = _prepare(read_items(extra), fitted=True)
    output.mkdir(parents=True, exist_ok=True)
    model_path = output / MODEL_PATH.name
    metadata_path = output / METADATA_PATH.name
    with tempfile.TemporaryDirectory(prefix="span-train-") as tmp_name:
        tmp = Path(tmp_name)
        if progress:
            progress(f"choosing the configuration: {folds}-fold CV over {len(rows)} items")
        oof = _oof(rows, extras, folds, seed, _grid(FAMILIES, c1_grid, c2_grid), tmp)
        choice = _select("selected", rows, oof, select_on)
        selection = {name: _score(rows, _oof_answers(_select(name, rows, oof, select_on), rows, oof))
                     for name in CANDIDATES}
        if not choice.needs_model():  # the rules alone: ship a model all the same (unused), so the file is valid
            choice = Choice("plain", c1_grid[0], c2_grid[0], choice.title, choice.organization)
        if progress:
            progress(f"training the final model ({choice.family}, c1={choice.c1}, c2={choice.c2})")
        trained = tmp / MODEL_PATH.name
        _train([*rows, *extras], choice.family, choice.c1, choice.c2, trained)
        model_path.write_bytes(trained.read_bytes())
    files = [*data, *extra]
    metadata: dict[str, Any] = {
        "format": "crfsuite",
        "model_file": model_path.name,
        "model_sha256": hashlib.sha256(model_path.read_bytes()).hexdigest(),
        "features_version": FEATURES_VERSION,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "training_data": [{"file": p.name, "sha256": data_sha256([p]), "items": len(read_items([p]))}
                          for p in files],
        "training_data_sha256": data_sha256(files),
        "counts": {"items": len(rows) + len(extras), "titles": sum(1 for r in [*rows, *extras] if r.item.title),
                   "organizations": sum(1 for r in [*rows, *extras] if r.item.organization),
                   "tokens": sum(len(r.tokens) for r in [*rows, *extras])},
        "crf": {"family": choice.family, "use_rules": choice.use_rules, "c1": choice.c1, "c2": choice.c2,
                "max_iterations": MAX_ITERATIONS, "algorithm": "lbfgs", "forced_floor": FORCED_FLOOR},
        "combination": {"title": asdict(choice.title), "organization": asdict(choice.organization)},
        "selection": {"protocol": f"{folds}-fold CV (seed {seed}) over all {len(rows)} items, choice scored on "
                                  f"{_select_on_text(select_on, rules_fitted_on)}; these figures are what the "
                                  "choice was made on, so optimistic (the honest ones are under cv)",
                      "fields_match": {name: {"all": figures["fields_match"],
                                              **{s: v["fields_match"] for s, v in figures["by_source"].items()}}
                                       for name, figures in selection.items()}},
        "cv": {k: v for k, v in cv.items() if k != "chosen"} if cv else None,
    }
    metadata_path.write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
    load_shipped.cache_clear()
    return TrainResult(model_path, metadata_path, metadata)


# --------------------------------------------------------------------------------------------------
# The shipped model
# --------------------------------------------------------------------------------------------------


class ModelMismatchError(RuntimeError):
    """The model file is not the one its metadata describes."""


@dataclass(frozen=True, slots=True)
class Shipped:
    tagger: SpanTagger | None  # None when the chosen combination is the rules alone
    choice: Choice
    metadata: dict[str, Any]

    def role(self, text: str, label: str, rules: Role) -> Role:
        if self.tagger is None or label not in LEARNED_LABELS:
            return rules
        return self.choice.combine(self.tagger.tag(text, label, rules), rules)


def load_model(model_path: Path = MODEL_PATH, metadata_path: Path = METADATA_PATH) -> Shipped:
    """A trained tagger and its combination, after checking the file against its metadata's SHA-256."""
    metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
    digest = hashlib.sha256(model_path.read_bytes()).hexdigest()
    if digest != metadata["model_sha256"]:
        raise ModelMismatchError(f"{model_path} has SHA-256 {digest}, its metadata says {metadata['model_sha256']}")
    if metadata.get("features_version") != FEATURES_VERSION:
        raise ModelMismatchError(f"{model_path} was trained with features version "
                                 f"{metadata.get('features_version')}, this code computes {FEATURES_VERSION}")
    crf = metadata["crf"]
    combination = metadata["combination"]
    choice = Choice(crf["family"], crf["c1"], crf["c2"], FieldChoice(**combination["title"]),
                    FieldChoice(**combination["organization"]))
    tagger = SpanTagger(model_path, use_rules=choice.use_rules) if choice.needs_model() else None
    return Shipped(tagger, choice, metadata)


@lru_cache(maxsize=1)
def load_shipped() -> Shipped:
    """The model shipped in the package (loaded once per process)."""
    return load_model()


def learned_role(text: str, label: str, rules: Role | None = None) -> Role:
    """Title and organization of a new job or a promotion by the shipped extractor (``rules``: the rules'
    answer when the caller has it already); other labels get the rules' answer."""
    if rules is None:
        rules = extract_role(text, label)
    if label not in LEARNED_LABELS:
        return rules
    return load_shipped().role(text, label, rules)
