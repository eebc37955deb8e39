"""An experiment's report, as the CLI and the API give it: the analysis of what came of its leads so far."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from upswing.core.csvsafe import safe_cell
from upswing.experiment import analysis, service
from upswing.experiment.models import Experiment
from upswing.experiment.report_pdf import render_pdf


@dataclass(frozen=True, slots=True)
class Report:
    experiment: Experiment
    result: analysis.ExperimentAnalysis
    as_of: datetime


def build(session: Session, experiment: Experiment, *, now: datetime | None = None, seed: int = 0) -> Report:
    service.refresh_exposure(session, experiment)
    observed = service.lead_results(session, experiment, now=now)
    result = analysis.analyze(observed.leads, conversion_days=experiment.conversion_days,
                              information_fraction=observed.information_fraction, seed=seed)
    return Report(experiment, result, observed.as_of)


def as_json(report: Report) -> dict[str, Any]:
    return {"experiment": {"id": str(report.experiment.id), "name": report.experiment.name,
                           "status": report.experiment.status, "as_of": report.as_of.isoformat()},
            **analysis.analysis_json(report.result)}


def as_csv(report: Report) -> str:
    rows = analysis.analysis_rows(report.result)
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({key: safe_cell(value) for key, value in row.items()})
    return buffer.getvalue()


def as_pdf(report: Report) -> bytes:
    experiment = report.experiment
    subtitle = (f"{experiment.status}; control share {experiment.control_share:.0%}; conversion = a payment within "
                f"{experiment.conversion_days} days; as of {report.as_of:%Y-%m-%d %H:%M} UTC")
    return render_pdf(report.result, title=f"Holdout experiment: {experiment.name}", subtitle=subtitle)
