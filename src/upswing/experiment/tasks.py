"""The experiment domain's tasks: new leads of a running experiment's population assigned, exposure recorded."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from upswing.core import tasks
from upswing.core.db import transaction
from upswing.experiment import service
from upswing.experiment.models import Experiment, ExperimentStatus


@tasks.scheduled(every=timedelta(hours=1))
@tasks.task("experiment.refresh")
def refresh() -> list[int]:
    """Each running experiment: leads that joined its population assigned, treatment exposure recorded."""
    assigned = exposed = 0
    with transaction() as session:
        running = list(session.scalars(select(Experiment).where(
            Experiment.status == ExperimentStatus.RUNNING.value)))
        for experiment in running:
            assigned += service.assign_new_leads(session, experiment)
            exposed += service.refresh_exposure(session, experiment)
    return [assigned, exposed]
