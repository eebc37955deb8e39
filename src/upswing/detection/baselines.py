"""Two reference classifiers our model must beat (benchmarks/classify.py measures all three).

- ``KeywordClassifier``: ordered keyword rules, the first rule that matches wins; no training.
- ``ZeroShotClassifier``: a locally built embedding (TF-IDF → LSA with TruncatedSVD, fitted on unlabelled
  text only) and a short description of each label; a text gets the label whose description is nearest
  (cosine). No labels are used to build it, and nothing is downloaded.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from sklearn.decomposition import TruncatedSVD  # type: ignore[import-untyped]
from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]
from sklearn.preprocessing import normalize  # type: ignore[import-untyped]

__all__ = ["LABEL_DESCRIPTIONS", "KeywordClassifier", "ZeroShotClassifier"]

# Checked in this order: the narrower events first (a license before a certification, a promotion before a
# new job), "none" when nothing matches.
_RULES: tuple[tuple[str, str], ...] = (
    ("job_loss", r"\b(laid off|layoffs?|fired|let go|made redundant|redundancy|position was eliminated|"
                 r"lost (my|his|her) job|ousted|sacked|forced (out|to resign|to step down)|dismiss(ed|al)|"
                 r"relieved of|open ?to ?work)\b"),
    ("promotion", r"\b(promoted|promotion|elevated to|moved up to|made partner)\b"),
    ("license_renewal", r"\b(licen[cs]e[ds]?|nclex|bar exam|admitted to the bar|called to the bar|sworn in|"
                        r"admitted to practice)\b"),
    ("certification", r"\b(certified|certification|certificate|passed (the|my) \w+( \w+)? exam|pmp|cissp|"
                      r"ccna|security\+|aws|cka|ckad|cfa|cpa)\b"),
    ("award", r"\b(award(ed)?|prize|honou?red|honorary|fellowship|scholarship|medal|inducted|hall of fame|"
              r"won|winner|first place)\b"),
    ("business_launch", r"\b(founded|co-?founded|started (my|his|her) own|opened (my|his|her) own|"
                        r"launched (my|his|her) own|my own (company|business|practice|firm|studio|store))\b"),
    ("education", r"\b(graduated|graduate|degree|ph\.? ?d|master'?s|bachelor'?s?|b\.?a\.|b\.?s\.|m\.?s\.|mba|"
                  r"defended|thesis|dissertation|admitted to|enrolled)\b"),
    ("new_employment", r"\b(joined|joining|join|new (job|position|role)|hired|appointed|named|accepted an? "
                       r"(offer|position)|starting as|started as|started a new|welcome)\b"),
)  # fmt: skip


class KeywordClassifier:
    labels = (
        "new_employment", "promotion", "certification", "license_renewal", "award", "business_launch",
        "education", "job_loss", "none",
    )  # fmt: skip

    def __init__(self) -> None:
        self._rules = [(label, re.compile(pattern, re.IGNORECASE)) for label, pattern in _RULES]

    def predict_labels(self, texts: Sequence[str]) -> list[str]:
        return [next((label for label, rule in self._rules if rule.search(text)), "none") for text in texts]


LABEL_DESCRIPTIONS: dict[str, str] = {
    "new_employment": "joined a new company as an employee; started a new job or position; hired; accepted an "
                      "offer; appointed at a new employer; joins the firm as",
    "promotion": "promoted to a more senior role at the same company; promotion; elevated to director, vice "
                 "president or partner; named chief executive after serving as president",
    "certification": "passed a professional certification exam; earned a certification; certified AWS, PMP, "
                     "CISSP, Security+, CCNA, CFA level, CPA exam",
    "license_renewal": "obtained or renewed a professional license; licensed nurse; passed the NCLEX; real "
                       "estate or insurance license; admitted to the bar; called to the bar",
    "award": "received an award, prize, honor, medal, fellowship or scholarship; best paper award; named a "
             "fellow; inducted into the hall of fame; won a competition or hackathon",
    "business_launch": "founded or co-founded a company or startup; started my own business; opened my own "
                       "practice, studio or store; launched my own firm",
    "education": "graduated with a degree; received a bachelor's, master's or PhD from a university; "
                 "defended a thesis; admitted to or started a degree program",
    "job_loss": "laid off; fired; lost my job; position eliminated; made redundant; ousted or forced out as "
                "chief executive; dismissed; relieved of duties",
    "none": "retired; stepped down voluntarily; attended a conference; gave a talk; paper accepted; hiring; "
            "opinion; congratulations to a friend; studying for an exam",
}  # fmt: skip


class ZeroShotClassifier:
    """Nearest label description in an LSA space fitted on unlabelled text."""

    def __init__(self, unlabelled: Sequence[str], *, dimensions: int = 150, seed: int = 0) -> None:
        self.labels = tuple(LABEL_DESCRIPTIONS)
        corpus = [*unlabelled, *LABEL_DESCRIPTIONS.values()]
        self._tfidf = TfidfVectorizer(sublinear_tf=True, min_df=2, ngram_range=(1, 2), stop_words="english")
        matrix = self._tfidf.fit_transform(corpus)
        self._svd = TruncatedSVD(n_components=min(dimensions, matrix.shape[1] - 1), random_state=seed)
        self._svd.fit(matrix)
        self._labels_embedded = self.embed(list(LABEL_DESCRIPTIONS.values()))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(normalize(self._svd.transform(self._tfidf.transform(texts))))

    def predict_labels(self, texts: Sequence[str]) -> list[str]:
        similarity = self.embed(texts) @ self._labels_embedded.T
        return [self.labels[i] for i in similarity.argmax(axis=1)]
