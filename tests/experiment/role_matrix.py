"""Role matrix rows for the experiment routes: managers and admins read experiments and reports; admins create,
start and end them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from upswing.account.models import Role
from upswing.experiment import service
from upswing.experiment.schemas import ExperimentCreate

MANAGERS = {Role.ADMIN, Role.MANAGER}
ADMIN = {Role.ADMIN}
ROUTES: list[tuple[str, str, set[Role]]] = [
    ("GET", "/api/v1/experiments", MANAGERS),
    ("POST", "/api/v1/experiments", ADMIN),
    ("GET", "/api/v1/experiments/power", MANAGERS),
    ("GET", "/api/v1/experiments/{experiment_id}", MANAGERS),
    ("POST", "/api/v1/experiments/{experiment_id}/start", ADMIN),
    ("POST", "/api/v1/experiments/{experiment_id}/end", ADMIN),
    ("GET", "/api/v1/experiments/{experiment_id}/report", MANAGERS),
]


def prepare(session: Session, method: str, path: str, lead: Any, user: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    end = datetime.now(UTC) + timedelta(days=60)
    if path == "/api/v1/experiments" and method == "POST":
        return {}, {"json": {"name": f"exp-{uuid.uuid4().hex[:8]}", "planned_end": end.isoformat()}}
    if path.endswith("/power"):
        return {}, {"params": {"base_rate": 0.05, "relative_lift": 0.2}}
    if "{experiment_id}" not in path:
        return {}, {}
    experiment = service.create_experiment(session, ExperimentCreate(name=f"exp-{uuid.uuid4().hex[:8]}",
                                                                     planned_end=end), actor="test")
    if path.endswith("/end") or path.endswith("/report"):
        service.start(session, experiment, actor="test")
    return {"experiment_id": experiment.id}, {}
