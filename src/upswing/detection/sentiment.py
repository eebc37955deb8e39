"""Sentiment of a career or business update: positive, neutral or negative.

VADER (``vaderSentiment``) scores the words; career phrases it does not know adjust the score: "laid off",
"let go", "position eliminated", "open to work" pull it down, "promoted", "thrilled to announce", "joined"
push it up. An update that reports losing a job is negative news however bravely it is framed ("laid off
after 7 years, grateful for the journey!"), so a negative event phrase without a positive one decides the
label on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # type: ignore[import-untyped]

Sentiment = Literal["positive", "neutral", "negative"]

__all__ = ["Sentiment", "SentimentResult", "sentiment", "sentiment_label"]

#: VADER's own cut-offs on the compound score.
POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05

_I = re.IGNORECASE

#: Events that are bad news for the person or the company.
_NEGATIVE_EVENTS = re.compile(
    r"\b(?:laid\s+off|lay-?offs?|layoffs?|let\s+go|fired|sacked|terminated|dismissed|ousted|forced\s+out|"
    r"made\s+redundant|redundanc(?:y|ies)|(?:position|role|job)\s+(?:was\s+|has\s+been\s+|got\s+)?eliminated|"
    r"lost\s+(?:my|his|her|their|our)\s+jobs?|job\s+loss|unemployed|furlough(?:ed)?|downsiz(?:ed|ing)|"
    r"open\s+to\s+work|#opentowork|(?:looking|searching)\s+for\s+(?:a\s+new\s+|new\s+|my\s+next\s+)?"
    r"(?:job|role|position|opportunit(?:y|ies))|job\s+hunt(?:ing)?|relieved\s+of\s+(?:his|her|their)\s+duties|"
    r"bankrupt(?:cy)?|chapter\s+11|insolvenc[ye]|insolvent|default(?:ed)?\s+on|missed\s+(?:\w+\s+){0,2}payments?|"
    r"clos(?:ing|ed|e)\s+(?:our|its|their|the)\s+doors|shut(?:ting)?\s+down|going\s+out\s+of\s+business|"
    r"wind(?:ing)?\s+down|liquidat(?:ion|ed|ing)|restructuring|cash\s+(?:crunch|shortfall)|struggl(?:ing|ed))\b",
    _I)

#: Events that are good news.
_POSITIVE_EVENTS = re.compile(
    r"\b(?:promoted|promotion|thrilled\s+to\s+(?:announce|share|join)|excited\s+to\s+(?:announce|share|join|"
    r"start)|happy\s+to\s+(?:announce|share)|pleased\s+to\s+(?:announce|share)|proud\s+to\s+(?:announce|share)|"
    r"delighted\s+to|joined|joining|new\s+(?:position|role|job|chapter)|accepted\s+(?:an?\s+)?offer|"
    r"passed|graduated|awarded|honou?red|won|winner|certified|licensed|launched|founded|opened\s+my\s+own|"
    r"expan(?:d|ding|ded|sion)|growth|record\s+(?:revenue|year|quarter)|raised\s+\$?[\d.]+|hiring)\b",
    _I)

NEGATIVE_EVENT_WEIGHT = -0.6
POSITIVE_EVENT_WEIGHT = 0.35


@dataclass(frozen=True, slots=True)
class SentimentResult:
    label: Sentiment
    score: float  # -1 … 1: VADER's compound score plus the domain adjustments, clamped
    vader: float  # VADER's compound score alone


@lru_cache(maxsize=1)
def _analyzer() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def sentiment(text: str) -> SentimentResult:
    vader = float(_analyzer().polarity_scores(text)["compound"])
    negatives = len(_NEGATIVE_EVENTS.findall(text))
    positives = len(_POSITIVE_EVENTS.findall(text))
    score = vader + NEGATIVE_EVENT_WEIGHT * min(negatives, 2) + POSITIVE_EVENT_WEIGHT * min(positives, 2)
    score = max(-1.0, min(1.0, score))
    if negatives and not positives:
        label: Sentiment = "negative"  # bad news stays bad news, however it is framed
    elif score >= POSITIVE_AT:
        label = "positive"
    elif score <= NEGATIVE_AT:
        label = "negative"
    else:
        label = "neutral"
    return SentimentResult(label, round(score, 4), vader)


def sentiment_label(text: str) -> Sentiment:
    return sentiment(text).label
