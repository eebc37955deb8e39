"""Secrets kept in the data directory, for a deployment that has none set (the demo).

``make demo`` must not run on a secret anyone can read in this repository: on its first run it writes
``<data dir>/secrets.json`` (mode 0600) with a random token-signing secret and random PII keys, and every later
run — and every ``upswing`` command pointed at the same data directory — reads them from there (``Settings``).
Values set in the environment always win. A server started any other way refuses to run on the placeholder.

A database that was filled before this file existed was encrypted with keys derived from the placeholder
secret: for it the file keeps those derived PII keys (so the data stays readable) and only the token-signing
secret becomes random; ``upswing keys rotate`` moves the data to fresh keys.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path

from upswing.core.crypto import _derive, new_key_spec
from upswing.settings import PLACEHOLDER_SECRET, local_secrets_path


def ensure_local_secrets(data_dir: Path, *, existing_data: bool) -> Path | None:
    """Write the data directory's secrets file when there is none; returns its path when it was written."""
    path = local_secrets_path(data_dir)
    if path.exists():
        return None
    values: dict[str, str] = {"secret_key": secrets.token_urlsafe(48)}
    if existing_data:  # keep what the data was encrypted with readable
        legacy = PLACEHOLDER_SECRET.encode()
        values["encryption_keys"] = f"k0:{base64.b64encode(_derive(legacy, 'upswing field encryption')).decode()}"
        values["blind_index_key"] = base64.b64encode(_derive(legacy, "upswing blind index")).decode()
    else:
        values["encryption_keys"] = new_key_spec("k1")
        values["blind_index_key"] = base64.b64encode(os.urandom(32)).decode()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(values, handle, indent=2)
    return path
