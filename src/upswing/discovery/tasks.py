"""The discovery task: one run of ``POST /api/v1/discover`` (``upswing discover run``)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from upswing.core.tasks import task
from upswing.discovery.engine import DiscoveryEngine


@task("discovery.run", max_attempts=1, lease=timedelta(hours=2))
def run_discovery(run_id: str) -> dict[str, Any]:
    """Search, fetch, classify and create prospects; the run records its own progress and end (one attempt: a
    failure is stated on the run, and a new run starts afresh, skipping the sites already found)."""
    status = DiscoveryEngine().run(uuid.UUID(run_id))
    return {"run_id": run_id, "status": status.value}
