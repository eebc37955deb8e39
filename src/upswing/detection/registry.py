"""Versioned model artifacts on disk, and which version is current.

Layout under the registry root (default ``<UPSWING_DATA_DIR>/models``)::

    <root>/<kind>/<version>/model.npz    arrays (vocabulary, idf, coefficients)
    <root>/<kind>/<version>/model.json   metadata: version, date, labels, training-data SHA-256, metrics, …
    <root>/<kind>/CURRENT                the promoted version's name

With no promoted version (or none of that kind) the model shipped in the package is current.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from upswing.detection.classifier import TextClassifier, shipped_model_path
from upswing.settings import get_settings

__all__ = [
    "KINDS",
    "ModelEntry",
    "RegistryError",
    "clear_model_cache",
    "current_model_path",
    "current_version",
    "list_models",
    "load_company_classifier",
    "load_person_classifier",
    "new_version_name",
    "promote",
    "register",
    "registry_root",
]

KINDS = ("person", "company")
SHIPPED = "shipped"
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,80}$")


class RegistryError(ValueError):
    """Unknown kind or version, or a version name that is not a safe directory name."""


@dataclass(frozen=True)
class ModelEntry:
    kind: str
    version: str
    path: Path  # the .npz file
    metadata: dict[str, Any]
    current: bool

    @property
    def shipped(self) -> bool:
        return self.version == SHIPPED


def registry_root(root: Path | None = None) -> Path:
    return root if root is not None else get_settings().data_dir / "models"


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise RegistryError(f"unknown model kind {kind!r}: expected one of {', '.join(KINDS)}")


def current_version(kind: str, root: Path | None = None) -> str:
    """The promoted version's name, or ``"shipped"``."""
    _check_kind(kind)
    marker = registry_root(root) / kind / "CURRENT"
    if marker.is_file():
        version = marker.read_text().strip()
        if _VERSION.match(version) and (registry_root(root) / kind / version / "model.npz").is_file():
            return version
    return SHIPPED


def current_model_path(kind: str, root: Path | None = None) -> Path:
    version = current_version(kind, root)
    return shipped_model_path(kind) if version == SHIPPED else registry_root(root) / kind / version / "model.npz"


def _read_metadata(npz: Path) -> dict[str, Any]:
    try:
        data = json.loads(npz.with_suffix(".json").read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def list_models(kind: str | None = None, root: Path | None = None) -> list[ModelEntry]:
    """Every version of each kind (the shipped one first, then by name, which sorts by date)."""
    entries: list[ModelEntry] = []
    for each in [kind] if kind else list(KINDS):
        _check_kind(each)
        current = current_version(each, root)
        shipped = shipped_model_path(each)
        if shipped.is_file():
            entries.append(ModelEntry(each, SHIPPED, shipped, _read_metadata(shipped), current == SHIPPED))
        folder = registry_root(root) / each
        if folder.is_dir():
            for version_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
                npz = version_dir / "model.npz"
                if npz.is_file():
                    entries.append(
                        ModelEntry(each, version_dir.name, npz, _read_metadata(npz), current == version_dir.name)
                    )
    return entries


def new_version_name(kind: str, now: datetime | None = None) -> str:
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{kind}-{moment:%Y%m%d-%H%M%S}"


def register(model: TextClassifier, kind: str, *, version: str, root: Path | None = None) -> ModelEntry:
    """Save ``model`` as a new version (not promoted)."""
    _check_kind(kind)
    if not _VERSION.match(version) or version == SHIPPED:
        raise RegistryError(f"invalid version name {version!r}")
    folder = registry_root(root) / kind / version
    if folder.exists():
        raise RegistryError(f"version {version} of the {kind} model already exists at {folder}")
    model.metadata["version"] = version
    path = model.save(folder / "model.npz")
    return ModelEntry(kind, version, path, model.metadata, False)


def promote(kind: str, version: str, root: Path | None = None) -> None:
    """Make ``version`` current (``"shipped"`` goes back to the packaged model). Atomic on one filesystem."""
    _check_kind(kind)
    folder = registry_root(root) / kind
    marker = folder / "CURRENT"
    if version == SHIPPED:
        marker.unlink(missing_ok=True)
    else:
        if not _VERSION.match(version) or not (folder / version / "model.npz").is_file():
            raise RegistryError(f"no {kind} model version {version!r} in {folder}")
        TextClassifier.load(folder / version / "model.npz")  # refuse a damaged artifact before it goes live
        temporary = folder / "CURRENT.tmp"
        temporary.write_text(version + "\n")
        os.replace(temporary, marker)
    clear_model_cache()


@lru_cache(maxsize=4)
def _load_current(kind: str) -> TextClassifier:
    return TextClassifier.load(current_model_path(kind))


def load_person_classifier() -> TextClassifier:
    """The current career-signal model: the registry's promoted version, else the one shipped in the package."""
    return _load_current("person")


def load_company_classifier() -> TextClassifier:
    """The current company-intent model: the registry's promoted version, else the one shipped in the package."""
    return _load_current("company")


def clear_model_cache() -> None:
    """Forget loaded models (after a promotion, so the next load picks the new current version)."""
    _load_current.cache_clear()
