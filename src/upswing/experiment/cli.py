"""``upswing experiment …``: create, start, end a holdout experiment; its status and report; sample sizes."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from pathlib import Path

import typer
from rich.table import Table

from upswing.core.cli_support import cli_actor, console, fail, timestamp_option, user_errors

app = typer.Typer(help="Holdout experiments: a random control group, and the lift with its confidence.",
                  no_args_is_help=True)


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    PDF = "pdf"


@app.command("create")
def create(name: str = typer.Argument(..., help="A name for the experiment"),
           until: str = typer.Option(..., "--until", help="Planned end (ISO 8601): the fixed horizon"),
           control_share: float = typer.Option(0.10, min=0.01, max=0.49, help="Share held out as control"),
           portfolio: list[str] = typer.Option([], help="Only these portfolios (repeatable)"),
           state: list[str] = typer.Option([], help="Only these US states (repeatable)"),
           min_days_delinquent: int | None = typer.Option(None, min=0),
           conversion_days: int = typer.Option(90, min=7, max=730, help="Conversion: a payment within these days"),
           start_now: bool = typer.Option(False, "--start", help="Start it now (assign the arms)")) -> None:
    """Create a draft experiment (and with --start, start it)."""
    from pydantic import ValidationError

    from upswing.core.db import transaction
    from upswing.experiment import service
    from upswing.experiment.schemas import ExperimentCreate

    planned_end = timestamp_option(until, "--until")
    try:
        data = ExperimentCreate(name=name, control_share=control_share, conversion_days=conversion_days,
                                planned_end=planned_end, population={
                                    "portfolios": portfolio, "states": state,
                                    "min_days_delinquent": min_days_delinquent})
    except ValidationError as exc:
        fail("invalid experiment", [{"row": None, "field": ".".join(map(str, e["loc"])), "message": e["msg"]}
                                    for e in exc.errors()])
    with user_errors(), transaction() as session:
        experiment = service.create_experiment(session, data, actor=cli_actor())
        started = service.start(session, experiment, actor=cli_actor()) if start_now else None
    console.print(f"experiment {name}: {'running' if started else 'draft'} ({experiment.id})")
    if started is not None:
        console.print(f"  {started.assigned} leads: {started.control} control, {started.treatment} treatment "
                      f"in {started.strata} strata; {started.skipped_in_other_experiments} already in another")


@app.command("start")
def start(name: str = typer.Argument(..., help="Experiment name or id")) -> None:
    """Assign the population to arms and start holding the control group out."""
    from upswing.core.db import transaction
    from upswing.experiment import service

    with user_errors(), transaction() as session:
        result = service.start(session, service.get_experiment(session, name), actor=cli_actor())
    console.print(f"{name}: {result.assigned} leads, {result.control} control, {result.treatment} treatment in "
                  f"{result.strata} strata")


@app.command("end")
def end(name: str = typer.Argument(..., help="Experiment name or id")) -> None:
    """Stop holding the control group out (the results stay)."""
    from upswing.core.db import transaction
    from upswing.experiment import service

    with user_errors(), transaction() as session:
        service.end(session, service.get_experiment(session, name), actor=cli_actor())
    console.print(f"{name}: ended")


@app.command("status")
def status(name: str | None = typer.Argument(None, help="Experiment name or id (default: all)")) -> None:
    """Experiments: state, arms, exposure, horizon."""
    from upswing.core.db import transaction
    from upswing.experiment import service

    with user_errors(), transaction() as session:
        experiments = [service.get_experiment(session, name)] if name else service.list_experiments(session)
        reads = [service.read(session, experiment) for experiment in experiments]
    table = Table("name", "status", "control", "treatment", "exposed", "started", "planned end",
                  title=f"{len(reads)} experiment(s)")
    for item in reads:
        table.add_row(item.name, item.status.value, str(item.arms.get("control", 0)),
                      str(item.arms.get("treatment", 0)), str(item.exposed),
                      f"{item.started_at:%Y-%m-%d}" if item.started_at else "", f"{item.planned_end:%Y-%m-%d}")
    console.print(table)


@app.command("report")
def report_command(name: str = typer.Argument(..., help="Experiment name or id"),
                   output_format: Format = typer.Option(Format.TABLE, "--format", help="table, json, csv or pdf"),
                   output: Path | None = typer.Option(None, "--output", "-o", help="Write here (pdf: required)"),
                   as_of: str | None = typer.Option(None, "--as-of", help="Analyse as of this time (ISO 8601)"),
                   ) -> None:
    """The lift: conversion per arm with its 95% interval, dollars per lead, days to first payment."""
    from upswing.core.db import transaction
    from upswing.experiment import analysis, report, service

    now: datetime | None = timestamp_option(as_of, "--as-of")
    if output_format is Format.PDF and output is None:
        fail("--format pdf needs --output FILE")
    with user_errors(), transaction() as session:
        built = report.build(session, service.get_experiment(session, name), now=now)
    if output_format is Format.PDF:
        assert output is not None
        output.write_bytes(report.as_pdf(built))
        console.print(f"wrote {output}")
        return
    text = (json.dumps(report.as_json(built), indent=2) if output_format is Format.JSON
            else report.as_csv(built) if output_format is Format.CSV else None)
    if text is not None:
        if output is not None:
            output.write_text(text, encoding="utf-8")
            console.print(f"wrote {output}")
        else:
            typer.echo(text)
        return
    rows = analysis.analysis_rows(built.result)
    console.print(f"[bold]{built.experiment.name}[/] as of {built.as_of:%Y-%m-%d %H:%M} UTC — "
                  f"{built.result.horizon_statement}")
    table = Table("section", "block", "leads (c/t)", "converted (c/t)", "difference (95% CI)", "lift (95% CI)",
                  "p", "significant", "$ per lead (c/t)")
    for row in rows:
        table.add_row(
            row["section"], row["block"], f"{row['control_n']}/{row['treatment_n']}",
            f"{_rate(row['control_rate'])}/{_rate(row['treatment_rate'])}",
            f"{_points(row['difference'])} ({_points(row['difference_ci_low'])}, {_points(row['difference_ci_high'])})",
            f"{_rate(row['relative_lift'])} ({_rate(row['relative_lift_ci_low'])}, "
            f"{_rate(row['relative_lift_ci_high'])})",
            "-" if row["p_value"] is None else f"{row['p_value']:.3g}", "yes" if row["significant"] else "no",
            f"{_money(row['control_mean_recovered'])}/{_money(row['treatment_mean_recovered'])}")
    console.print(table)


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _points(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:+.1f} pts"


def _money(value: float | None) -> str:
    return "-" if value is None else f"${value:,.0f}"


@app.command("power")
def power(base_rate: float = typer.Option(..., min=0.0001, max=0.9999, help="Conversion without alerts (0-1)"),
          lift: float = typer.Option(..., min=0.01, max=10, help="Relative lift to detect (0.2 = 20%)"),
          control_share: float = typer.Option(0.10, min=0.01, max=0.49),
          power_level: float = typer.Option(0.8, "--power", min=0.51, max=0.99)) -> None:
    """How many leads you need to detect a lift."""
    from upswing.experiment import analysis

    try:
        console.print(analysis.power_sentence(base_rate, lift, power=power_level, control_share=control_share))
    except ValueError as exc:
        fail(f"--lift: {exc}")
