"""``upswing services …``: the services catalog (list, create, update, delete, import a catalog file)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from upswing.core.cli_support import cli_actor, console, fail, fail_invalid, user_errors

app = typer.Typer(help="Services catalog: the team's programs and offers, and who is eligible.",
                  no_args_is_help=True)

_FIELDS_HELP = ("JSON object of fields: name, category, description, states, region_codes, local_radius_km, "
                "center_latitude, center_longitude, balance_min/max, days_delinquent_min/max, employment_states, "
                "signal_types, industries, need_profile, active_from/to, active, external_id")


def _json(value: str) -> dict[str, Any]:
    try:
        data = json.loads(value)
    except ValueError as exc:
        fail(f"not JSON: {exc}")
    if not isinstance(data, dict):
        fail("give a JSON object")
    return data


def _service_id(session: Any, given: str) -> Any:
    from sqlalchemy import select

    from upswing.core.cli_support import resolve_id
    from upswing.service_catalog.models import Service

    found = session.scalar(select(Service.id).where(Service.name == given))
    return found if found is not None else resolve_id(session, select(Service.id), Service.id, given, "service")


@app.command("list")
def list_services(category: str | None = typer.Option(None, help="Only this category"),
                  active: bool | None = typer.Option(None, "--active/--inactive", help="Only on (or off) services"),
                  limit: int = typer.Option(100, min=1, max=1000)) -> None:
    """The catalog, by name."""
    from pydantic import ValidationError

    from upswing.core.db import transaction
    from upswing.service_catalog import service
    from upswing.service_catalog.schemas import ServiceFilters

    try:
        filters = ServiceFilters.model_validate({"category": category, "active": active, "limit": limit})
    except ValidationError as exc:
        fail_invalid(exc)
    with user_errors(), transaction() as session:
        page = service.page_services(session, filters)
    table = Table("id", "name", "category", "states/regions", "balance", "days delinquent", "needs", "active",
                  title=f"{page.total} service(s)")
    for item in page.items:
        where = ",".join(item.states + item.region_codes) or (
            f"{item.local_radius_km:g} km" if item.local_radius_km else "anywhere")
        table.add_row(str(item.id)[:8], item.name, item.category.value, where,
                      f"{item.balance_min or ''}–{item.balance_max or ''}",
                      f"{item.days_delinquent_min or ''}–{item.days_delinquent_max or ''}",
                      ", ".join(f"{k}:{v:g}" for k, v in item.need_profile.items()), "yes" if item.active else "no")
    console.print(table)


@app.command("create")
def create(fields: str = typer.Argument(..., help=_FIELDS_HELP)) -> None:
    """Add a service (or change the one with the same external_id, else name)."""
    from pydantic import ValidationError

    from upswing.core.db import transaction
    from upswing.service_catalog import service
    from upswing.service_catalog.schemas import ServiceCreate

    try:
        data = ServiceCreate.model_validate(_json(fields))
    except ValidationError as exc:
        fail_invalid(exc)
    with user_errors(), transaction() as session:
        row, created, changed = service.upsert_service(session, data, actor=cli_actor())
        console.print(f"{'created' if created else 'updated' if changed else 'unchanged'}: {row.name} ({row.id})")


@app.command("update")
def update(service_id: str = typer.Argument(..., help="The service's id (or its first characters) or name"),
           fields: str = typer.Argument(..., help="JSON object of the fields to change")) -> None:
    """Change some fields of a service."""
    from pydantic import ValidationError

    from upswing.core.db import transaction
    from upswing.service_catalog import service
    from upswing.service_catalog.schemas import ServiceUpdate

    try:
        data = ServiceUpdate.model_validate(_json(fields))
    except ValidationError as exc:
        fail_invalid(exc)
    with user_errors(), transaction() as session:
        row = service.update_service(session, _service_id(session, service_id), data, actor=cli_actor())
        console.print(f"updated: {row.name} ({row.id})")


@app.command("delete")
def delete(service_id: str = typer.Argument(..., help="The service's id (or its first characters) or name")) -> None:
    """Delete a service and its matches."""
    from upswing.core.db import transaction
    from upswing.service_catalog import service

    with user_errors(), transaction() as session:
        service.delete_service(session, _service_id(session, service_id), actor=cli_actor())
    console.print("deleted")


@app.command("import")
def import_services(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV, XLSX or JSON catalog file"),
    dry_run: bool = typer.Option(False, help="Check and count, write nothing"),
) -> None:
    """Import a catalog keyed by external_id (else name): lists separated by ';' (TX;CA), needs as
    hardship:1;restart:0.5. Any bad row: nothing written, each row and field named; a re-import changes nothing."""
    from upswing.core.db import transaction
    from upswing.service_catalog import service

    with user_errors(), transaction() as session:
        try:
            report = service.import_services(session, file, actor=cli_actor(), dry_run=dry_run)
        except service.ServiceImportFailed as exc:
            fail(str(exc), exc.errors)
    suffix = " (dry run: nothing written)" if dry_run else ""
    console.print(f"{report.total} row(s): {report.created} created, {report.updated} updated, "
                  f"{report.unchanged} unchanged{suffix}")
