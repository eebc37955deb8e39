"""Similar leads: the nearest leads by a normalised feature vector. Pure (numpy arrays in and out).

The vector (every component in 0–1, times its weight; missing values sit at the neutral 0.5):

==================  =====================================================  ======
component           value                                                  weight
==================  =====================================================  ======
balance             ``log1p(balance) / log1p(250 000)``, clipped            1.0
days delinquent     ``min(days, 720) / 720``                                1.0
latitude            ``(lat + 90) / 180``                                    2.0
longitude           ``(lng + 180) / 360``                                   2.0
signal counts       per type of ``SIGNAL_TYPES``: ``min(count, 3) / 3``     0.5 each
==================  =====================================================  ======

Distance: Euclidean between weighted vectors (0 = the same lead profile). Coordinates weigh twice so that, other
things equal, a neighbour is a lead nearby (one degree of latitude ≈ 111 km moves the distance by 0.011).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from upswing.service_catalog.codes import SIGNAL_TYPES

BALANCE_FULL = 250_000.0
DAYS_FULL = 720.0
WEIGHTS = np.array([1.0, 1.0, 2.0, 2.0] + [0.5] * len(SIGNAL_TYPES))
COMPONENTS = ("balance", "days_delinquent", "latitude", "longitude", *(f"signals.{t}" for t in SIGNAL_TYPES))


def vector(balance: float | None, days_delinquent: int | None, latitude: float | None, longitude: float | None,
           signal_counts: Mapping[str, int]) -> npt.NDArray[np.float64]:
    values = [
        0.5 if balance is None else min(1.0, math.log1p(max(balance, 0.0)) / math.log1p(BALANCE_FULL)),
        0.5 if days_delinquent is None else min(float(max(days_delinquent, 0)), DAYS_FULL) / DAYS_FULL,
        0.5 if latitude is None else (latitude + 90.0) / 180.0,
        0.5 if longitude is None else (longitude + 180.0) / 360.0,
        *(min(signal_counts.get(kind, 0), 3) / 3.0 for kind in SIGNAL_TYPES),
    ]
    weighted: npt.NDArray[np.float64] = np.asarray(values, dtype=np.float64) * WEIGHTS
    return weighted


def nearest(target: npt.NDArray[np.float64], candidates: npt.NDArray[np.float64], keys: Sequence[str],
            k: int) -> list[tuple[str, float]]:
    """The ``k`` nearest candidates (rows) by Euclidean distance, nearest first; ties by key."""
    if len(keys) == 0:
        return []
    distances = np.sqrt(((candidates - target) ** 2).sum(axis=1))
    order = sorted(range(len(keys)), key=lambda i: (round(float(distances[i]), 9), keys[i]))[:k]
    return [(keys[i], float(distances[i])) for i in order]
