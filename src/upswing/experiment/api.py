"""experiment domain: holdout experiments over the API (managers and admins) and their reports."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from fastapi.responses import JSONResponse, Response

from upswing.account.deps import Admin, ManagerOrAdmin
from upswing.core.deps import DbSession
from upswing.core.errors import ValidationFailedError
from upswing.experiment import analysis, report, service
from upswing.experiment.schemas import (
    ExperimentCreate,
    ExperimentRead,
    ExperimentStart,
    PowerAnswer,
    PowerQuery,
    ReportFormat,
)

router = APIRouter(prefix="/api/v1/experiments", tags=["experiments"])


def _actor(user: Any) -> str:
    return f"user:{user.username}"


@router.get("", response_model=list[ExperimentRead], operation_id="experiments_list")
def list_experiments(_: ManagerOrAdmin, session: DbSession) -> list[ExperimentRead]:
    return [service.read(session, experiment) for experiment in service.list_experiments(session)]


@router.post("", response_model=ExperimentRead, status_code=status.HTTP_201_CREATED,
             operation_id="experiments_create")
def create_experiment(body: ExperimentCreate, user: Admin, session: DbSession) -> ExperimentRead:
    """A draft: its population, control share (default 10%), conversion window and planned end (admins)."""
    experiment = service.create_experiment(session, body, actor=_actor(user))
    session.commit()
    return service.read(session, experiment)


# Declared before /{experiment_id}: "power" is not an experiment id.
@router.get("/power", response_model=PowerAnswer, operation_id="experiments_power")
def power(_: ManagerOrAdmin, query: Annotated[PowerQuery, Query()]) -> PowerAnswer:
    """How many leads an experiment needs to detect a lift (two-sided test of two proportions)."""
    try:
        control, treatment = analysis.sample_size_per_arm(query.base_rate, query.relative_lift, power=query.power,
                                                          alpha=query.alpha, control_share=query.control_share)
        sentence = analysis.power_sentence(query.base_rate, query.relative_lift, power=query.power,
                                           alpha=query.alpha, control_share=query.control_share)
    except ValueError as exc:  # an effect too small to compute a sample size for
        raise ValidationFailedError(f"relative_lift: {exc}",
                                    [{"row": None, "field": "relative_lift", "message": str(exc)}]) from exc
    return PowerAnswer(control=control, treatment=treatment, total=control + treatment, sentence=sentence)


@router.get("/{experiment_id}", response_model=ExperimentRead, operation_id="experiments_get")
def get_experiment(experiment_id: uuid.UUID, _: ManagerOrAdmin, session: DbSession) -> ExperimentRead:
    return service.read(session, service.get_experiment(session, experiment_id))


@router.post("/{experiment_id}/start", response_model=ExperimentStart, operation_id="experiments_start")
def start(experiment_id: uuid.UUID, user: Admin, session: DbSession) -> ExperimentStart:
    """Assign the population to arms (stratified, by a keyed hash) and start holding the control group out."""
    result = service.start(session, service.get_experiment(session, experiment_id), actor=_actor(user))
    session.commit()
    return result


@router.post("/{experiment_id}/end", response_model=ExperimentRead, operation_id="experiments_end")
def end(experiment_id: uuid.UUID, user: Admin, session: DbSession) -> ExperimentRead:
    """Stop holding the control group out; the results stay."""
    experiment = service.end(session, service.get_experiment(session, experiment_id), actor=_actor(user))
    session.commit()
    return service.read(session, experiment)


@router.get("/{experiment_id}/report", operation_id="experiments_report",
            responses={200: {"description": "The analysis: JSON (default), CSV rows or a PDF to forward",
                             "content": {"application/json": {}, "text/csv": {"schema": {"type": "string"}},
                                         "application/pdf": {"schema": {"type": "string", "format": "binary"}}}}})
def experiment_report(experiment_id: uuid.UUID, _: ManagerOrAdmin, session: DbSession,
                      format: Annotated[ReportFormat, Query(description="json, csv or pdf")] = "json",
                      ) -> Response:
    """Conversion (a payment within the experiment's window) per arm with the difference, relative lift and 95%
    interval (Newcombe), dollars recovered per lead (bootstrap), days to first payment (Kaplan-Meier, log-rank);
    intention-to-treat first, per-protocol beside it; overall and per signal type."""
    built = report.build(session, service.get_experiment(session, experiment_id))
    session.commit()  # exposure recorded on the way
    name = f"experiment-{built.experiment.name}".replace(" ", "-")
    if format == "csv":
        return Response(report.as_csv(built), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    if format == "pdf":
        return Response(report.as_pdf(built), media_type="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'})
    return JSONResponse(report.as_json(built))
