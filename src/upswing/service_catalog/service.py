"""The services catalog: create, change, list, delete, import.

Keyed writes: a service with an external id is found by it (else by its name) and changed in place, so a re-sent
API call or a re-imported file changes nothing twice. A catalog file is checked whole before anything is written
(``ServiceImportFailed`` names each bad row and field). Services never commit: the request or the command does.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from upswing.audit.service import record
from upswing.core.errors import ConflictError, NotFoundError, ValidationFailedError
from upswing.core.pagination import capped_count
from upswing.lead.importer import LeadFileReader
from upswing.service_catalog.models import Service
from upswing.service_catalog.schemas import (
    ServiceCreate,
    ServiceFields,
    ServiceFilters,
    ServiceImportError,
    ServiceImportReport,
    ServicePage,
    ServiceRead,
    ServiceUpdate,
    check_consistent,
)

#: The fields a write sets (and compares, to tell an update from a repeat).
FIELDS = tuple(name for name in ServiceFields.model_fields)


class ServiceImportFailed(ValidationFailedError):
    """Rows of the file are invalid: nothing was written; ``report.errors`` names each row and field."""

    def __init__(self, message: str, report: ServiceImportReport) -> None:
        super().__init__(message, [error.model_dump() for error in report.errors])
        self.report = report


def _values(data: ServiceFields) -> dict[str, Any]:
    values = data.model_dump(include=set(FIELDS))
    values["category"] = data.category.value
    values["employment_states"] = [state.value for state in data.employment_states]
    return values


def _find(session: Session, external_id: str | None, name: str) -> Service | None:
    if external_id is not None:
        found = session.scalar(select(Service).where(Service.external_id == external_id))
        if found is not None:
            return found
    return session.scalar(select(Service).where(Service.name == name))


def upsert_service(session: Session, data: ServiceCreate, *, actor: str) -> tuple[Service, bool, bool]:
    """Create the service, or change the one with this external id (else this name): ``(service, created,
    changed)``. A name already used by a service with another external id is a conflict."""
    existing = _find(session, data.external_id, data.name)
    values = _values(data)
    if existing is not None and data.external_id is not None and existing.external_id not in (None,
                                                                                             data.external_id):
        raise ConflictError(f"name: {data.name!r} is the name of another service ({existing.external_id})")
    if existing is not None and existing.name != data.name and session.scalar(
            select(Service.id).where(Service.name == data.name, Service.id != existing.id)) is not None:
        raise ConflictError(f"name: another service is called {data.name!r}")
    if existing is None:
        service = Service(external_id=data.external_id, created_by=actor, **values)
        session.add(service)
        session.flush()
        record(session, actor=actor, action="service.create", entity_type="service", entity_id=service.id,
               details={"name": service.name, "category": service.category})
        return service, True, False
    changed = [name for name, value in values.items() if _differs(getattr(existing, name), value)]
    if data.external_id is not None and existing.external_id is None:
        existing.external_id = data.external_id
        changed.append("external_id")
    for name in changed:
        if name != "external_id":
            setattr(existing, name, values[name])
    if changed:
        session.flush()
        record(session, actor=actor, action="service.update", entity_type="service", entity_id=existing.id,
               details={"fields": sorted(changed)})
    return existing, False, bool(changed)


def _differs(current: Any, new: Any) -> bool:
    if isinstance(current, float) or isinstance(new, float):
        return current is None or new is None or float(current) != float(new)
    return bool(current != new)


def get_service(session: Session, service_id: uuid.UUID) -> Service:
    service = session.get(Service, service_id)
    if service is None:
        raise NotFoundError(f"service {service_id} not found")
    return service


def update_service(session: Session, service_id: uuid.UUID, data: ServiceUpdate, *, actor: str) -> Service:
    service = get_service(session, service_id)
    changes = data.model_dump(exclude_unset=True)
    nullable = {"description", "local_radius_km", "center_latitude", "center_longitude", "balance_min",
                "balance_max", "days_delinquent_min", "days_delinquent_max", "active_from", "active_to"}
    for name, value in changes.items():
        if value is None and name not in nullable:
            raise ValidationFailedError(f"{name}: must not be null",
                                        [{"row": None, "field": name, "message": "must not be null"}])
    merged = {name: getattr(service, name) for name in FIELDS} | changes
    try:
        check_consistent(merged)
    except ValueError as exc:
        field, _, message = str(exc).partition(": ")
        raise ValidationFailedError(str(exc), [{"row": None, "field": field, "message": message}]) from None
    if "name" in changes and session.scalar(select(Service.id).where(Service.name == changes["name"],
                                                                     Service.id != service.id)) is not None:
        raise ConflictError(f"name: another service is called {changes['name']!r}")
    changed = []
    for name, value in changes.items():
        plain = value.value if hasattr(value, "value") else value
        if name == "employment_states":
            plain = [getattr(state, "value", state) for state in value]
        if _differs(getattr(service, name), plain):
            setattr(service, name, plain)
            changed.append(name)
    if changed:
        session.flush()
        record(session, actor=actor, action="service.update", entity_type="service", entity_id=service.id,
               details={"fields": sorted(changed)})
    return service


def delete_service(session: Session, service_id: uuid.UUID, *, actor: str) -> None:
    """Delete a service and its matches (switch it off with ``active=false`` to keep its history)."""
    service = get_service(session, service_id)
    record(session, actor=actor, action="service.delete", entity_type="service", entity_id=service.id,
           details={"name": service.name})
    session.delete(service)
    session.flush()


def page_services(session: Session, filters: ServiceFilters) -> ServicePage:
    where = []
    if filters.category is not None:
        where.append(Service.category == filters.category.value)
    if filters.active is not None:
        where.append(Service.active.is_(filters.active))
    if filters.q:
        where.append(func.lower(Service.name).contains(filters.q.lower(), autoescape=True))
    total, _ = capped_count(session, select(Service.id).where(*where))  # a catalog is small; the cap guards anyway
    rows = session.scalars(select(Service).where(*where).order_by(Service.name, Service.id)
                           .limit(filters.limit).offset(filters.offset))
    return ServicePage(items=[ServiceRead.model_validate(row) for row in rows], total=total, limit=filters.limit,
                       offset=filters.offset)


def active_services(session: Session, on: date) -> list[Service]:
    """Services switched on whose active dates include ``on``."""
    return list(session.scalars(select(Service).where(
        Service.active.is_(True), or_(Service.active_from.is_(None), Service.active_from <= on),
        or_(Service.active_to.is_(None), Service.active_to >= on)).order_by(Service.name, Service.id)))


# --------------------------------------------------------------------------------------------------
# Import

#: File columns → fields (lower-cased, spaces and dashes as underscores).
_COLUMNS = {**{name: name for name in (*FIELDS, "external_id")}, "id": "external_id", "service_id": "external_id",
            "service": "name", "type": "category", "regions": "region_codes", "radius_km": "local_radius_km",
            "lat": "center_latitude", "latitude": "center_latitude", "lng": "center_longitude",
            "lon": "center_longitude", "longitude": "center_longitude", "needs": "need_profile",
            "employment": "employment_states"}
_LISTS = ("states", "region_codes", "employment_states", "signal_types", "industries")


def import_services(session: Session, source: str | Path | bytes | IO[bytes], *, actor: str,
                    filename: str | None = None, dry_run: bool = False, max_errors: int = 100) -> ServiceImportReport:
    """A catalog file (CSV, XLSX, JSON) keyed by ``external_id`` (else ``name``). Lists are separated by ``;`` or
    ``|`` (``TX;CA``); ``need_profile`` is ``hardship:1;restart:0.5`` or a JSON object. Every row is checked before
    anything is written; a re-import changes nothing."""
    reader = LeadFileReader(source, filename=filename)
    report = ServiceImportReport(file=reader.filename, dry_run=dry_run)
    rows: list[tuple[int, ServiceCreate]] = []
    seen: dict[str, int] = {}
    try:
        for number, raw in reader:
            report.total += 1
            parsed = _parse_row(number, raw, report)
            if parsed is None:
                continue
            key = parsed.external_id or f"name:{parsed.name}"
            if key in seen or f"name:{parsed.name}" in seen:
                _error(report, number, "external_id" if parsed.external_id else "name",
                       f"repeats row {seen.get(key) or seen.get(f'name:{parsed.name}')}")
                continue
            seen[key] = seen[f"name:{parsed.name}"] = number
            rows.append((number, parsed))
    finally:
        reader.close()
    for number, data in rows:  # names taken by other services of the catalog
        existing = _find(session, data.external_id, data.name)
        if existing is not None and data.external_id and existing.external_id not in (None, data.external_id):
            _error(report, number, "name", f"{data.name!r} is the name of another service ({existing.external_id})")
    if report.errors:
        del report.errors[max_errors:]
        raise ServiceImportFailed(f"{len({e.row for e in report.errors})} row(s) are invalid; nothing was imported",
                                  report)
    for _number, data in rows:
        if dry_run:
            existing = _find(session, data.external_id, data.name)
            report.created += existing is None
            report.unchanged += existing is not None
            continue
        try:
            _, created, changed = upsert_service(session, data, actor=actor)
        except ConflictError as exc:
            _error(report, _number, "name", str(exc).partition(": ")[2])
            raise ServiceImportFailed("a row conflicts with the catalog; nothing was imported", report) from None
        report.created += created
        report.updated += changed
        report.unchanged += not created and not changed
    if not dry_run:
        record(session, actor=actor, action="service.import", entity_type="service_file", entity_id=None,
               details=report.model_dump(include={"file", "total", "created", "updated", "unchanged"}))
    return report


def _error(report: ServiceImportReport, row: int | None, field: str | None, message: str) -> None:
    report.errors.append(ServiceImportError(row=row, field=field, message=message))


def _split(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(item).strip() for item in value if str(item).strip()]
    text = str(value).replace("|", ";")
    return [part.strip() for part in text.split(";") if part.strip()]


def _needs(value: Any) -> Any:
    if isinstance(value, dict):
        return value
    text = str(value).strip()
    if text.startswith("{"):
        try:
            return json.loads(text)
        except ValueError:
            raise ValueError("not a JSON object") from None
    needs: dict[str, Any] = {}
    for part in _split(text):
        need, sep, weight = part.partition(":")
        if not sep:
            raise ValueError(f"{part!r}: write need:weight (hardship:1;restart:0.5)")
        needs[need.strip()] = weight.strip()
    return needs


def _parse_row(number: int, raw: Mapping[str, Any], report: ServiceImportReport) -> ServiceCreate | None:
    values: dict[str, Any] = {}
    for column, value in raw.items():
        name = _COLUMNS.get(str(column).strip().lower().replace(" ", "_").replace("-", "_"))
        if name is not None and value not in (None, ""):
            values[name] = value.strip() if isinstance(value, str) else value
    for name in ("name", "category"):
        if name not in values:
            _error(report, number, name, "is required")
    if "name" not in values or "category" not in values:
        return None
    for name in _LISTS:
        if name in values:
            values[name] = _split(values[name])
    if "need_profile" in values:
        try:
            values["need_profile"] = _needs(values["need_profile"])
        except ValueError as exc:
            _error(report, number, "need_profile", str(exc))
            return None
    for name in ("active_from", "active_to"):
        if isinstance(values.get(name), datetime):
            values[name] = values[name].date()
    if isinstance(values.get("category"), str):
        values["category"] = values["category"].lower().replace(" ", "_").replace("-", "_")
    if isinstance(values.get("active"), str):
        values["active"] = values["active"].lower()
    if isinstance(values.get("external_id"), int | float):
        values["external_id"] = str(values["external_id"])
    try:
        return ServiceCreate.model_validate(values)
    except ValidationError as exc:
        for item in exc.errors():
            location = str(item["loc"][0]) if item["loc"] else None
            message = str(item["msg"]).removeprefix("Value error, ")
            field, _, rest = message.partition(": ")
            if location is None and rest:
                location, message = field, rest
            _error(report, number, location, message)
        return None
