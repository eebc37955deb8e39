"""Holdout experiments: a random, stratified control group; its signals held out of every channel; what came of it.

**Assignment.** When an experiment starts, every lead of its population (not already in another running
experiment) draws a number in [0, 1) from a keyed hash (HMAC-SHA256 of the experiment and lead ids under a key
derived from ``UPSWING_SECRET_KEY``): stable and reproducible, and not guessable by anyone without the key.
Within each stratum (portfolio × balance band) the lowest draws, ``round(control_share × n)`` of them, are the
control group, so every stratum holds out the same share. Leads that join the population later are assigned by
the draw alone (control when it is below the share).

**Holding out.** A control lead is flagged ``leads.holdout`` while the experiment runs; the signals detected on it
meanwhile are stored and scored with ``signals.holdout`` set, and every channel skips them: alerts, digests,
escalations, CRM pushes, and the feed and lead timeline of everyone but admins (who see them labelled).

**Exposure.** A treatment lead is exposed when its first signal alert after assignment exists (in-app alerts are
delivered when made): the per-protocol comparison uses it; the headline is intention-to-treat.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from upswing.alert.models import Alert
from upswing.audit.service import record
from upswing.core.bulk import bulk_insert
from upswing.core.db import utcnow
from upswing.core.errors import ConflictError, NotFoundError, ValidationFailedError
from upswing.experiment.analysis import LeadResult
from upswing.experiment.models import Arm, Assignment, Experiment, ExperimentStatus
from upswing.experiment.schemas import ExperimentCreate, ExperimentRead, ExperimentStart, Population
from upswing.lead.models import Lead, Portfolio
from upswing.outcome.models import Outcome, OutcomeKind
from upswing.settings import Settings, get_settings
from upswing.signal.models import Signal

_CHUNK = 5_000
#: Balance bands of the stratification (dollars; upper bounds exclusive).
BALANCE_BANDS = ((Decimal(5_000), "under 5k"), (Decimal(20_000), "5k-20k"))


# --------------------------------------------------------------------------------------------------
# The draw and the strata


def assignment_key(settings: Settings | None = None) -> bytes:
    secret = (settings or get_settings()).secret_key.get_secret_value().encode()
    return hmac.new(secret, b"upswing experiment assignment", hashlib.sha256).digest()


def draw(key: bytes, experiment_id: uuid.UUID, lead_id: uuid.UUID) -> float:
    """The lead's number in [0, 1) for this experiment: HMAC-SHA256, its first 53 bits."""
    digest = hmac.new(key, experiment_id.bytes + lead_id.bytes, hashlib.sha256).digest()
    (number,) = struct.unpack(">Q", digest[:8])
    return float(number >> 11) / float(1 << 53)


def balance_band(balance: Decimal | None) -> str:
    if balance is None:
        return "unknown"
    for bound, name in BALANCE_BANDS:
        if balance < bound:
            return name
    return "20k+"


def stratified_arms(draws: dict[uuid.UUID, tuple[str, float]], share: float) -> dict[uuid.UUID, Arm]:
    """Within each stratum, the ``round(share × n)`` lowest draws are control; the rest treatment."""
    by_stratum: dict[str, list[tuple[float, uuid.UUID]]] = defaultdict(list)
    for lead_id, (stratum, value) in draws.items():
        by_stratum[stratum].append((value, lead_id))
    arms: dict[uuid.UUID, Arm] = {}
    for members in by_stratum.values():
        members.sort()
        control = round(share * len(members))
        for position, (_, lead_id) in enumerate(members):
            arms[lead_id] = Arm.CONTROL if position < control else Arm.TREATMENT
    return arms


# --------------------------------------------------------------------------------------------------
# Lifecycle


def create_experiment(session: Session, data: ExperimentCreate, *, actor: str) -> Experiment:
    if session.scalar(select(Experiment.id).where(Experiment.name == data.name)) is not None:
        raise ConflictError(f"name: an experiment {data.name!r} exists")
    if data.planned_end <= utcnow():
        raise ValidationFailedError("planned_end: in the past",
                                    [{"row": None, "field": "planned_end", "message": "must be in the future"}])
    experiment = Experiment(name=data.name, description=data.description, control_share=data.control_share,
                            population=data.population.model_dump(mode="json", exclude_defaults=True),
                            conversion_days=data.conversion_days, planned_end=data.planned_end, created_by=actor,
                            status=ExperimentStatus.DRAFT.value)
    session.add(experiment)
    session.flush()
    record(session, actor=actor, action="experiment.create", entity_type="experiment", entity_id=experiment.id,
           details={"name": data.name, "control_share": data.control_share})
    return experiment


def get_experiment(session: Session, ref: str | uuid.UUID) -> Experiment:
    try:
        found = session.get(Experiment, uuid.UUID(str(ref)))
    except ValueError:
        found = session.scalar(select(Experiment).where(Experiment.name == str(ref)))
    if found is None:
        raise NotFoundError(f"experiment {ref} not found")
    return found


def list_experiments(session: Session) -> list[Experiment]:
    return list(session.scalars(select(Experiment).order_by(Experiment.created_at.desc())))


def _population_conditions(experiment: Experiment) -> list[ColumnElement[bool]]:
    population = Population.model_validate(experiment.population or {})
    where: list[ColumnElement[bool]] = [Lead.merged_into_id.is_(None)]
    if population.portfolios:
        where.append(Lead.portfolio_id.in_(select(Portfolio.id).where(Portfolio.name.in_(population.portfolios))))
    if population.states:
        where.append(Lead.state.in_([state.upper() for state in population.states]))
    if population.min_days_delinquent is not None:
        where.append(Lead.days_delinquent >= population.min_days_delinquent)
    if population.min_balance is not None:
        where.append(Lead.balance >= population.min_balance)
    if population.max_balance is not None:
        where.append(Lead.balance <= population.max_balance)
    return where


def _in_other_running(experiment: Experiment) -> Any:
    return select(Assignment.lead_id).join(Experiment, Experiment.id == Assignment.experiment_id).where(
        Experiment.status == ExperimentStatus.RUNNING.value, Experiment.id != experiment.id)


def start(session: Session, experiment: Experiment, *, actor: str, now: datetime | None = None) -> ExperimentStart:
    """Assign every lead of the population to an arm (stratified; see the module) and hold the control group out."""
    if experiment.status != ExperimentStatus.DRAFT.value:
        raise ConflictError(f"experiment {experiment.name} is {experiment.status}; only a draft starts")
    now = now or utcnow()
    where = _population_conditions(experiment)
    busy = set(session.scalars(select(Lead.id).where(*where, Lead.id.in_(_in_other_running(experiment)))))
    key = assignment_key()
    draws: dict[uuid.UUID, tuple[str, float]] = {}
    for row in session.execute(select(Lead.id, Lead.balance, Portfolio.name)
                               .join(Portfolio, Portfolio.id == Lead.portfolio_id).where(*where)):
        if row.id not in busy:
            draws[row.id] = (f"{row.name}|{balance_band(row.balance)}", draw(key, experiment.id, row.id))
    arms = stratified_arms(draws, experiment.control_share)
    _write_assignments(session, experiment, {lead_id: (arms[lead_id], *draws[lead_id]) for lead_id in arms}, now)
    experiment.status, experiment.started_at = ExperimentStatus.RUNNING.value, now
    control = sum(arm is Arm.CONTROL for arm in arms.values())
    result = ExperimentStart(assigned=len(arms), control=control, treatment=len(arms) - control,
                             strata=len({stratum for stratum, _ in draws.values()}),
                             skipped_in_other_experiments=len(busy))
    record(session, actor=actor, action="experiment.start", entity_type="experiment", entity_id=experiment.id,
           details=result.model_dump())
    return result


def _write_assignments(session: Session, experiment: Experiment,
                       assigned: dict[uuid.UUID, tuple[Arm, str, float]], now: datetime) -> None:
    rows = [{"experiment_id": experiment.id, "lead_id": lead_id, "arm": arm.value, "stratum": stratum,
             "draw": value, "assigned_at": now, "exposed_at": None}
            for lead_id, (arm, stratum, value) in assigned.items()]
    for start_at in range(0, len(rows), _CHUNK):
        bulk_insert(session, Assignment.__table__, rows[start_at:start_at + _CHUNK])  # type: ignore[arg-type]
    control = [lead_id for lead_id, (arm, _, _) in assigned.items() if arm is Arm.CONTROL]
    _set_holdout(session, control, True)


def _set_holdout(session: Session, lead_ids: list[uuid.UUID], value: bool) -> None:
    # updated_at kept: the flag is Upswing's own bookkeeping, not a change a sync client should fetch.
    for start_at in range(0, len(lead_ids), _CHUNK):
        session.execute(update(Lead).where(Lead.id.in_(lead_ids[start_at:start_at + _CHUNK]))
                        .values(holdout=value, updated_at=Lead.updated_at).execution_options(synchronize_session=False))


def assign_new_leads(session: Session, experiment: Experiment, *, now: datetime | None = None) -> int:
    """Leads that joined the population since the start: assigned by their draw alone."""
    if experiment.status != ExperimentStatus.RUNNING.value:
        return 0
    now = now or utcnow()
    mine = select(Assignment.lead_id).where(Assignment.experiment_id == experiment.id)
    key = assignment_key()
    assigned: dict[uuid.UUID, tuple[Arm, str, float]] = {}
    for row in session.execute(select(Lead.id, Lead.balance, Portfolio.name)
                               .join(Portfolio, Portfolio.id == Lead.portfolio_id)
                               .where(*_population_conditions(experiment), Lead.id.not_in(mine),
                                      Lead.id.not_in(_in_other_running(experiment)))):
        value = draw(key, experiment.id, row.id)
        arm = Arm.CONTROL if value < experiment.control_share else Arm.TREATMENT
        assigned[row.id] = (arm, f"{row.name}|{balance_band(row.balance)}", value)
    _write_assignments(session, experiment, assigned, now)
    return len(assigned)


def end(session: Session, experiment: Experiment, *, actor: str, now: datetime | None = None) -> Experiment:
    """Stop holding the control group out (their later signals are worked as usual); the results stay."""
    if experiment.status != ExperimentStatus.RUNNING.value:
        raise ConflictError(f"experiment {experiment.name} is {experiment.status}; only a running one ends")
    control = list(session.scalars(select(Assignment.lead_id).where(Assignment.experiment_id == experiment.id,
                                                                    Assignment.arm == Arm.CONTROL.value)))
    _set_holdout(session, control, False)
    experiment.status, experiment.ended_at = ExperimentStatus.ENDED.value, now or utcnow()
    record(session, actor=actor, action="experiment.end", entity_type="experiment", entity_id=experiment.id,
           details={"control_released": len(control)})
    return experiment


def refresh_exposure(session: Session, experiment: Experiment) -> int:
    """Record when each treatment lead's first signal alert since assignment was made (in-app: delivered)."""
    first = (select(Alert.lead_id, func.min(Alert.created_at).label("first"))
             .join(Assignment, Assignment.lead_id == Alert.lead_id)
             .where(Assignment.experiment_id == experiment.id, Assignment.arm == Arm.TREATMENT.value,
                    Assignment.exposed_at.is_(None), Alert.kind == "signal",
                    Alert.created_at >= Assignment.assigned_at)
             .group_by(Alert.lead_id))
    found = {row.lead_id: row.first for row in session.execute(first)}
    for lead_id, when in found.items():
        session.execute(update(Assignment).where(Assignment.experiment_id == experiment.id,
                                                 Assignment.lead_id == lead_id).values(exposed_at=when))
    return len(found)


def read(session: Session, experiment: Experiment) -> ExperimentRead:
    arms = {row.arm: row.n for row in session.execute(
        select(Assignment.arm, func.count().label("n")).where(Assignment.experiment_id == experiment.id)
        .group_by(Assignment.arm))}
    exposed = session.scalar(select(func.count()).where(Assignment.experiment_id == experiment.id,
                                                        Assignment.exposed_at.is_not(None))) or 0
    values = {c.key: getattr(experiment, c.key) for c in Experiment.__table__.columns}
    return ExperimentRead.model_validate({**values, "arms": arms, "exposed": exposed})


# --------------------------------------------------------------------------------------------------
# What came of it


@dataclass(frozen=True, slots=True)
class Observed:
    """The experiment's leads with what happened to them, as of ``as_of``."""

    leads: list[LeadResult]
    as_of: datetime
    information_fraction: float


def lead_results(session: Session, experiment: Experiment, *, now: datetime | None = None) -> Observed:
    """Per assigned lead: its arm, stratum, signal types since assignment, exposure, dollars paid and days to the
    first payment since assignment, and how long it has been followed (to the end or the horizon)."""
    if experiment.started_at is None:
        raise ConflictError(f"experiment {experiment.name} has not started")
    now = now or utcnow()
    as_of = min(now, experiment.ended_at or now, experiment.planned_end)
    assignments = {row.lead_id: row for row in session.scalars(
        select(Assignment).where(Assignment.experiment_id == experiment.id))}
    types: dict[uuid.UUID, set[str]] = defaultdict(set)
    payments: dict[uuid.UUID, list[tuple[datetime, Decimal | None]]] = defaultdict(list)
    ids = list(assignments)
    for start_at in range(0, len(ids), _CHUNK):
        chunk = ids[start_at:start_at + _CHUNK]
        for row in session.execute(select(Signal.lead_id, Signal.type, Signal.detected_at)
                                   .where(Signal.lead_id.in_(chunk), Signal.detected_at <= as_of)):
            if row.detected_at >= assignments[row.lead_id].assigned_at:
                types[row.lead_id].add(row.type)
        for paid in session.execute(select(Outcome.lead_id, Outcome.occurred_on, Outcome.amount)
                                    .where(Outcome.lead_id.in_(chunk), Outcome.kind == OutcomeKind.PAYMENT.value)):
            paid_at = datetime.combine(paid.occurred_on, datetime.min.time(), tzinfo=as_of.tzinfo)
            if assignments[paid.lead_id].assigned_at.date() <= paid.occurred_on and paid_at <= as_of:
                payments[paid.lead_id].append((paid_at, paid.amount))
    results: list[LeadResult] = []
    for lead_id, assignment in assignments.items():
        received = sorted(payments.get(lead_id, []), key=lambda item: item[0])
        start_day = assignment.assigned_at.date()
        results.append(LeadResult(
            lead_id=str(lead_id), arm=assignment.arm,  # type: ignore[arg-type]
            stratum=assignment.stratum, signal_types=frozenset(types.get(lead_id, set())),
            exposed=assignment.exposed_at is not None and assignment.exposed_at <= as_of,
            recovered=float(sum((amount or Decimal(0)) for _, amount in received)),
            days_to_payment=float((received[0][0].date() - start_day).days) if received else None,
            followup_days=max(0.0, float((as_of.date() - start_day).days))))
    horizon = (experiment.planned_end - experiment.started_at).total_seconds()
    elapsed = (as_of - experiment.started_at).total_seconds()
    fraction = 1.0 if experiment.status == ExperimentStatus.ENDED.value or horizon <= 0 \
        else max(0.01, min(1.0, elapsed / horizon))
    return Observed(results, as_of, fraction)
