"""Linear text classifiers for career signals (about a person) and business intent (about a company).

A model is TF-IDF over word 1–2-grams and character 2–5-grams (inside word boundaries), a multinomial
logistic regression, and one temperature that calibrates its probabilities. Everything is stored as plain
arrays in an ``.npz`` file plus a JSON metadata file that records the array file's SHA-256: loading never
unpickles anything and refuses a file whose hash does not match.

Texts are split into sentences before counting, and a document's counts are the sum of its sentences'
counts. That makes a document's score an exact sum of per-sentence contributions, so the evidence span is
the sentence that contributed most to the predicted label, at no extra vectorizing cost.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp  # type: ignore[import-untyped]

__all__ = [
    "COMPANY_LABELS",
    "PERSON_LABELS",
    "FeatureConfig",
    "Featurizer",
    "ModelIntegrityError",
    "Prediction",
    "TextClassifier",
    "shipped_model_path",
    "split_sentences",
]

PERSON_LABELS: tuple[str, ...] = (
    "new_employment", "promotion", "certification", "license_renewal", "award", "business_launch",
    "education", "job_loss", "none",
)  # fmt: skip
COMPANY_LABELS: tuple[str, ...] = (
    "growth", "expansion", "financial_distress", "loan_need", "consulting_need", "none",
)  # fmt: skip
NO_SIGNAL = "none"

FORMAT_VERSION = 1
_MODEL_DIR = Path(__file__).parent / "model"


class ModelIntegrityError(RuntimeError):
    """A model file is missing, truncated, or does not match the hash in its metadata."""


@dataclass(frozen=True)
class Prediction:
    """``label`` is the decision: ``best_label`` when its confidence clears the type's threshold, else ``none``.
    ``confidence`` and ``evidence`` are those of ``best_label`` (the top guess)."""

    label: str
    confidence: float
    evidence: tuple[int, int] | None
    best_label: str = ""

    def __post_init__(self) -> None:
        if not self.best_label:
            object.__setattr__(self, "best_label", self.label)


# --------------------------------------------------------------------------------------------------
# Sentences
# --------------------------------------------------------------------------------------------------

# A boundary: sentence punctuation (optionally closed by a quote or bracket), whitespace, then something
# that can start a sentence. Newlines always end a sentence.
_BOUNDARY = re.compile(r"""(?<=[.!?…])["'”’)\]]?\s+(?=["'“‘(\[]?[A-Z0-9#@\U0001F300-\U0001FAFF])|\s*\n\s*""")
# Words that end with a period without ending the sentence ("Mr. Smith", "Acme Inc. said").
_ABBREVIATIONS = frozenset(
    {
        "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "inc", "corp", "co", "ltd", "llc", "no", "vs",
        "gen", "gov", "sen", "rep", "rev", "hon", "col", "capt", "lt", "sgt", "mt", "ft", "dept", "univ",
        "jan", "feb", "mar", "apr", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "e.g", "i.e", "ph.d",
        "b.a", "b.s", "m.a", "m.s", "m.d", "j.d", "ll.b", "ll.m", "b.sc", "m.sc", "mba", "m.b.a", "c.e.o",
    }
)  # fmt: skip
_LAST_WORD = re.compile(r"([\w.]+)\W*$")
_CLOSERS = "\"'”’)]"


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text``, leading and trailing whitespace excluded."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        gap = match.group(0)
        end = match.start() + len(gap) - len(gap.lstrip(_CLOSERS))  # a closing quote stays with its sentence
        if "\n" not in gap:
            last = _LAST_WORD.search(text, max(start, match.start() - 12), match.start() + 1)
            word = last.group(1).rstrip(".").lower() if last else ""
            # An abbreviation or a lone initial ("Thomas P. Joyce") does not end the sentence.
            if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                continue
        _append_span(text, start, end, spans)
        start = match.end()
    _append_span(text, start, len(text), spans)
    return spans


def _append_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


# --------------------------------------------------------------------------------------------------
# Features
# --------------------------------------------------------------------------------------------------

_DIGITS = re.compile(r"\d")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "´": "'", "`": "'", "“": '"', "”": '"'})


def normalize(text: str) -> str:
    """Lower case, one kind of apostrophe, every digit a 0 (years and counts generalize)."""
    return _DIGITS.sub("0", text.translate(_APOSTROPHES).lower())


@dataclass(frozen=True)
class FeatureConfig:
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (2, 5)
    min_df: int = 2  # an n-gram must occur at least this many times in the training texts
    max_word_features: int = 40_000
    max_char_features: int = 60_000
    char_weight: float = 1.0
    # Counts in a text's first sentence are multiplied by this: when a text has two events, the dev set's
    # guide labels the first one.
    first_sentence_weight: float = 1.0
    # Add the cue words of ``CUES`` (negated or future events, other people's news, hiring, nominations …).
    cues: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "word_ngrams": list(self.word_ngrams), "char_ngrams": list(self.char_ngrams), "min_df": self.min_df,
            "max_word_features": self.max_word_features, "max_char_features": self.max_char_features,
            "char_weight": self.char_weight, "first_sentence_weight": self.first_sentence_weight,
            "cues": self.cues,
        }  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FeatureConfig:
        return cls(
            word_ngrams=(int(data["word_ngrams"][0]), int(data["word_ngrams"][1])),
            char_ngrams=(int(data["char_ngrams"][0]), int(data["char_ngrams"][1])),
            min_df=int(data["min_df"]), max_word_features=int(data["max_word_features"]),
            max_char_features=int(data["max_char_features"]), char_weight=float(data["char_weight"]),
            first_sentence_weight=float(data.get("first_sentence_weight", 1.0)),
            cues=bool(data.get("cues", False)),
        )  # fmt: skip


_WORD = re.compile(r"\w+|[!?🎉🎓🏆🚀🥳]")

# Texts that look like an event and are not one, in the kinds the label guide names (``none``): the event
# negated or still ahead, someone else's news, hiring posts, nominations, anniversaries, definitions and
# advice. Each match adds one pseudo-word the model weighs like any other word.
CUES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern)) for name, pattern in (
        ("negated", r"\b(?:did ?n[o']?t|didnt|not|never|failed(?: to)?|could ?n[o']?t|yet to|no longer)\s+"
                    r"(?:\w+\s+){0,2}?(?:pass|passed|get|got|receive|received|earn|earned|win|won|land|landed|"
                    r"make|made|clear|cleared|hired|selected|accepted|promoted)\b"),
        ("ahead", r"\b(?:studying for|preparing for|prepping for|prep for|will take|going to take|plan(?:ning)? to|"
                  r"hop(?:e|ing) to|want(?:ing)? to|aim(?:ing)? to|registered for|signed up for|sitting for|"
                  r"scheduled (?:to|for)|applying (?:to|for)|applied (?:to|for)|"
                  r"interview(?:ing|ed)? (?:at|for|with))\b"),
        ("others", r"\b(?:congratulations|congrats|congratulating|kudos|shout ?out|proud of (?:our|my|him|her|them)|"
                   r"please (?:join|welcome)|(?:join|joins) (?:me|us) in (?:welcoming|congratulating)|"
                   r"welcom(?:e|ing) (?:our|to))\b"),
        ("hiring", r"\b(?:we(?:'re| are) hiring|is hiring|are hiring|now hiring|join our team|apply (?:now|here|today)|"
                   r"job (?:post|posting|opening|description)|open (?:position|role|roles|positions)|"
                   r"we(?:'re| are) looking for)\b"),
        ("nominated", r"\b(?:nominated|nominee|nomination|finalist|shortlisted|short-listed|runner-up)\b"),
        ("anniversary", r"\b(?:work anniversary|anniversary|celebrating \d+ years|\d+ years (?:at|with|ago))\b"),
        ("generic", r"\b(?:if you|you (?:must|need|should|will|can|have to)|candidates|applicants|anyone who|"
                    r"those who|is an? (?:\w+ ){0,3}who|how (?:do|did|can) (?:i|you)|any (?:advice|tips))\b"),
        ("company", r"\b(?:the company|our company|our team|our firm|we(?:'re| are) (?:excited|proud|thrilled) to "
                    r"(?:announce|launch|introduce))\b"),
    )
)  # fmt: skip


def cue_words(sentence: str) -> list[str]:
    """The pseudo-words of the cues a (normalized) sentence matches."""
    return [f"__cue_{name}__" for name, pattern in CUES if pattern.search(sentence)]


def _char_ngrams(chunk: str, low: int, high: int) -> list[str]:
    """Character n-grams of one whitespace-delimited chunk, padded with a space on each side."""
    padded = f" {chunk} "
    return [padded[i : i + n] for n in range(low, high + 1) for i in range(len(padded) - n + 1)]


def _word_ngrams(words: list[str], low: int, high: int) -> list[str]:
    grams = list(words) if low <= 1 else []
    for n in range(max(2, low), high + 1):
        grams.extend(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
    return grams


@dataclass
class SentenceCounts:
    """Counts per sentence, per document, and which document each sentence belongs to."""

    sentences: sp.csr_matrix
    documents: sp.csr_matrix
    owner: np.ndarray
    spans: list[list[tuple[int, int]]]


_CHUNK_CACHE_LIMIT = 500_000


@dataclass
class Featurizer:
    """Text → L2-normalized, sublinear TF-IDF rows (a word block and a character block side by side).

    Character n-grams never cross whitespace, so a sentence's character features are the sum of its
    chunks' features; each distinct chunk is expanded once and remembered, which makes vectorizing
    cost about one dictionary look-up per word.
    """

    config: FeatureConfig
    word_vocabulary: dict[str, int]
    char_vocabulary: dict[str, int]
    idf: np.ndarray
    _chunks: dict[str, list[int]] = field(init=False, repr=False, default_factory=dict)

    @property
    def n_word(self) -> int:
        return len(self.word_vocabulary)

    @property
    def n_features(self) -> int:
        return len(self.word_vocabulary) + len(self.char_vocabulary)

    @classmethod
    def fit(cls, texts: Sequence[str], config: FeatureConfig) -> Featurizer:
        """Keep the most frequent word and character n-grams seen at least ``min_df`` times."""
        word_counts: Counter[str] = Counter()
        chunk_counts: Counter[str] = Counter()
        for text in texts:
            for a, b in split_sentences(text) or [(0, len(text))]:
                sentence = normalize(text[a:b])
                word_counts.update(_word_ngrams(_WORD.findall(sentence), *config.word_ngrams))
                if config.cues:
                    word_counts.update(cue_words(sentence))
                chunk_counts.update(sentence.split())
        char_counts: Counter[str] = Counter()
        for chunk, count in chunk_counts.items():
            for gram in _char_ngrams(chunk, *config.char_ngrams):
                char_counts[gram] += count

        def vocabulary(counts: Counter[str], limit: int) -> dict[str, int]:
            kept = sorted((term for term, n in counts.items() if n >= config.min_df), key=lambda t: (-counts[t], t))
            return {term: i for i, term in enumerate(sorted(kept[:limit]))}

        featurizer = cls(
            config, vocabulary(word_counts, config.max_word_features),
            vocabulary(char_counts, config.max_char_features), np.ones(0),
        )  # fmt: skip
        documents = featurizer.count(texts).documents
        document_frequency = np.bincount(documents.indices, minlength=featurizer.n_features)
        featurizer.idf = np.log((1 + len(texts)) / (1 + document_frequency)) + 1.0
        return featurizer

    def _chunk_features(self, chunk: str) -> list[int]:
        found = self._chunks.get(chunk)
        if found is None:
            if len(self._chunks) >= _CHUNK_CACHE_LIMIT:
                self._chunks.clear()
            vocabulary, offset = self.char_vocabulary, self.n_word
            found = [offset + vocabulary[g] for g in _char_ngrams(chunk, *self.config.char_ngrams) if g in vocabulary]
            self._chunks[chunk] = found
        return found

    def _sentence_features(self, sentence: str) -> list[int]:
        normalized = normalize(sentence)
        vocabulary = self.word_vocabulary
        grams = _word_ngrams(_WORD.findall(normalized), *self.config.word_ngrams)
        if self.config.cues:
            grams.extend(cue_words(normalized))
        features = [vocabulary[g] for g in grams if g in vocabulary]
        for chunk in normalized.split():
            features.extend(self._chunk_features(chunk))
        return features

    def count(self, texts: Sequence[str]) -> SentenceCounts:
        spans = [split_sentences(text) or [(0, len(text))] for text in texts]
        indices: list[int] = []
        indptr = [0]
        first_sentences: list[int] = []
        for text, text_spans in zip(texts, spans, strict=True):
            first_sentences.append(len(indptr) - 1)
            for a, b in text_spans:
                indices.extend(self._sentence_features(text[a:b]))
                indptr.append(len(indices))
        n_sentences = len(indptr) - 1
        values = np.ones(len(indices))
        if self.config.first_sentence_weight != 1.0:
            bounds = np.asarray(indptr)
            for sentence in first_sentences:
                values[bounds[sentence] : bounds[sentence + 1]] = self.config.first_sentence_weight
        rows = sp.csr_matrix(
            (values, np.asarray(indices, dtype=np.int64), np.asarray(indptr, dtype=np.int64)),
            shape=(n_sentences, self.n_features),
        )
        rows.sum_duplicates()
        owner = np.repeat(np.arange(len(texts)), [len(s) for s in spans])
        membership = sp.csr_matrix(
            (np.ones(n_sentences), (owner, np.arange(n_sentences))), shape=(len(texts), n_sentences)
        )
        documents = (membership @ rows).tocsr()
        documents.sum_duplicates()
        return SentenceCounts(rows, documents, owner, spans)

    def weigh(self, documents: sp.csr_matrix) -> sp.csr_matrix:
        """Counts → sublinear TF-IDF, each block L2-normalized (the char block scaled by ``char_weight``)."""
        matrix = documents.copy().astype(np.float64)
        matrix.data = (1.0 + np.log(matrix.data)) * self.idf[matrix.indices]
        is_word = matrix.indices < self.n_word
        squares = matrix.data**2
        rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
        word_norm = np.sqrt(np.bincount(rows[is_word], squares[is_word], minlength=matrix.shape[0]))
        char_norm = np.sqrt(np.bincount(rows[~is_word], squares[~is_word], minlength=matrix.shape[0]))
        word_norm[word_norm == 0] = 1.0
        char_norm[char_norm == 0] = 1.0
        matrix.data = np.where(
            is_word, matrix.data / word_norm[rows], matrix.data * self.config.char_weight / char_norm[rows]
        )
        return matrix

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        return self.weigh(self.count(texts).documents)


# --------------------------------------------------------------------------------------------------
# The classifier
# --------------------------------------------------------------------------------------------------


class TextClassifier:
    """A trained linear model: ``predict`` gives a label, a calibrated confidence and an evidence span."""

    def __init__(
        self,
        labels: Sequence[str],
        featurizer: Featurizer,
        coef: np.ndarray,
        intercept: np.ndarray,
        temperature: float = 1.0,
        metadata: dict[str, Any] | None = None,
        thresholds: dict[str, float] | None = None,
    ) -> None:
        if coef.shape != (len(labels), featurizer.n_features) or intercept.shape != (len(labels),):
            raise ValueError(
                f"coefficients {coef.shape} / intercept {intercept.shape} do not fit {len(labels)} labels and "
                f"{featurizer.n_features} features"
            )
        self.labels: tuple[str, ...] = tuple(labels)
        self.featurizer = featurizer
        self.coef = np.ascontiguousarray(coef, dtype=np.float64)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.temperature = float(temperature)
        self.metadata: dict[str, Any] = dict(metadata or {})
        #: The precision floor: a label becomes the decision only at or above its confidence threshold.
        self.thresholds: dict[str, float] = dict(thresholds or {})

    # ---- scoring ---------------------------------------------------------------------------------

    def decision_function(self, texts: Sequence[str]) -> np.ndarray:
        """Uncalibrated logits, one row per text."""
        return np.asarray(self.featurizer.transform(texts) @ self.coef.T) + self.intercept

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return softmax(self.decision_function(texts) / self.temperature)

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        if not texts:
            return []
        counts = self.featurizer.count(texts)
        weighted = self.featurizer.weigh(counts.documents)
        probabilities = softmax((np.asarray(weighted @ self.coef.T) + self.intercept) / self.temperature)
        chosen = probabilities.argmax(axis=1)
        evidence = self._evidence(counts, weighted, chosen)
        predictions = []
        for i, k in enumerate(chosen):
            best, confidence = self.labels[k], float(probabilities[i, k])
            cleared = best == NO_SIGNAL or confidence >= self.thresholds.get(best, 0.0)
            predictions.append(Prediction(
                label=best if cleared else NO_SIGNAL,
                confidence=round(confidence, 4),
                evidence=None if best == NO_SIGNAL else evidence[i],
                best_label=best,
            ))
        return predictions

    def _evidence(
        self, counts: SentenceCounts, weighted: sp.csr_matrix, chosen: np.ndarray
    ) -> list[tuple[int, int] | None]:
        """The span of the sentence that added most to each text's chosen label.

        A feature's weight in the document is shared among its sentences in proportion to their counts
        of it, so the per-sentence contributions add up to the document's score (less the intercept).
        """
        rows = np.repeat(np.arange(weighted.shape[0]), np.diff(weighted.indptr))
        per_count = weighted.copy()
        document_counts = counts.documents
        # ``weigh`` keeps the sparsity pattern of the counts, so the data arrays line up element by element.
        per_count.data = weighted.data * self.coef[chosen[rows], weighted.indices] / document_counts.data
        contributions = np.asarray(counts.sentences.multiply(per_count[counts.owner]).sum(axis=1)).ravel()
        result: list[tuple[int, int] | None] = []
        first = 0
        for spans in counts.spans:
            scores = contributions[first : first + len(spans)]
            first += len(spans)
            result.append(spans[int(scores.argmax())] if spans and spans[0][1] > spans[0][0] else None)
        return result

    # ---- persistence -----------------------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        """Write ``<path>.npz`` (arrays) and ``<path>.json`` (metadata + the arrays' SHA-256)."""
        target = Path(path).with_suffix(".npz")
        target.parent.mkdir(parents=True, exist_ok=True)
        featurizer = self.featurizer
        word_terms = sorted(featurizer.word_vocabulary, key=featurizer.word_vocabulary.__getitem__)
        char_terms = sorted(featurizer.char_vocabulary, key=featurizer.char_vocabulary.__getitem__)
        with target.open("wb") as handle:
            np.savez_compressed(
                handle,
                word_terms=np.array(word_terms, dtype=np.str_),
                char_terms=np.array(char_terms, dtype=np.str_),
                idf=featurizer.idf.astype(np.float32),
                coef=self.coef.astype(np.float32),
                intercept=self.intercept.astype(np.float32),
            )
        metadata = {
            **self.metadata,
            "format_version": FORMAT_VERSION,
            "labels": list(self.labels),
            "temperature": self.temperature,
            "thresholds": self.thresholds,
            "features": featurizer.config.to_json(),
            "arrays_sha256": _sha256(target),
        }
        target.with_suffix(".json").write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n")
        self.metadata = metadata
        return target

    @classmethod
    def load(cls, path: str | Path) -> TextClassifier:
        arrays_path = Path(path).with_suffix(".npz")
        metadata_path = arrays_path.with_suffix(".json")
        if not arrays_path.is_file() or not metadata_path.is_file():
            raise ModelIntegrityError(f"model files {arrays_path} and {metadata_path.name} are both needed")
        metadata = json.loads(metadata_path.read_text())
        if metadata.get("format_version") != FORMAT_VERSION:
            raise ModelIntegrityError(f"{metadata_path}: unsupported format_version {metadata.get('format_version')}")
        digest = _sha256(arrays_path)
        if digest != metadata.get("arrays_sha256"):
            expected = metadata.get("arrays_sha256")
            raise ModelIntegrityError(
                f"{arrays_path}: SHA-256 {digest} does not match {expected} in {metadata_path.name}"
            )
        with np.load(arrays_path, allow_pickle=False) as arrays:
            word_terms = arrays["word_terms"].tolist()
            char_terms = arrays["char_terms"].tolist()
            featurizer = Featurizer(
                FeatureConfig.from_json(metadata["features"]),
                {term: i for i, term in enumerate(word_terms)},
                {term: i for i, term in enumerate(char_terms)},
                arrays["idf"].astype(np.float64),
            )
            return cls(
                metadata["labels"], featurizer, arrays["coef"], arrays["intercept"],
                temperature=float(metadata["temperature"]), metadata=metadata,
                thresholds={str(k): float(v) for k, v in (metadata.get("thresholds") or {}).items()},
            )  # fmt: skip


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exponentials = np.exp(shifted)
    return np.asarray(exponentials / exponentials.sum(axis=1, keepdims=True))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------------
# Loading the models the application uses
# --------------------------------------------------------------------------------------------------


def shipped_model_path(kind: str) -> Path:
    """The default model inside the package (``detection/model/<kind>.npz``)."""
    if kind not in ("person", "company"):
        raise ValueError(f"unknown model kind {kind!r} (expected person or company)")
    return _MODEL_DIR / f"{kind}.npz"
