"""Every documented query parameter of every list endpoint, sent in the loose forms people type, on both databases:
times as a date, a naive time or with a zone (a naive time is UTC, as in the CLI); numbers, flags and choices in
their usual spellings. Each answers 200 (a value that names nothing, such as an unknown user, may answer 422 with
the parameter's name) — never a 5xx."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from factories import auth, make_lead, make_signal, make_user
from upswing.account.models import Role

LOOSE_TIMES = ("2026-12-06", "2026-12-06T08:00", "2026-12-06 08:00:00", "2026-12-06T08:00:00Z",
               "2026-12-06T08:00:00+05:30", "2026-12-06T08:00:00.123456-08:00")
LOOSE_DATES = ("2026-12-06",)
LOOSE_BOOLEANS = ("true", "false", "1", "0", "yes", "no")


def _schema(app: Any, parameter: dict[str, Any]) -> dict[str, Any]:
    schema = parameter.get("schema", {})
    for option in schema.get("anyOf", []):  # Optional[...] is anyOf [T, null]
        if option.get("type") != "null":
            schema = option
    if "$ref" in schema:
        schema = app.openapi()["components"]["schemas"][schema["$ref"].split("/")[-1]]
    return dict(schema)


def loose_values(app: Any, parameter: dict[str, Any], known_id: str) -> tuple[list[str], bool]:
    """The forms to send, and whether each must be accepted (200); ids are a lead's, in two spellings."""
    schema = _schema(app, parameter)
    if "enum" in schema:
        return [str(value) for value in schema["enum"]], True
    kind, form = schema.get("type"), schema.get("format")
    if kind == "string" and form == "date-time":
        return list(LOOSE_TIMES), True
    if kind == "string" and form == "date":
        return list(LOOSE_DATES), True
    if kind == "string" and form == "uuid":
        return [known_id, known_id.upper()], True
    if kind == "integer":
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        return [str(int(low)), str(int(low) + 1), f"+{int(low) + 1}"], True
    if kind == "number":
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        high = schema.get("maximum", schema.get("exclusiveMaximum"))
        if low is None or high is None:
            return ["0.5", "1", "1e0"], True
        inside = round(low + (high - low) / 10, 4)  # a bounded number (a rate, a share): a value inside its range
        return [str(inside), f"{inside:e}", f"+{inside}"], True
    if kind == "boolean":
        return list(LOOSE_BOOLEANS), True
    return ["x", "ZZ"], False  # free text (a name, a state code …): its meaning decides, not its form


def list_endpoints(app: Any) -> list[tuple[str, list[dict[str, Any]]]]:
    """GET endpoints without path parameters that take query parameters (the lists and searches; not the live
    stream, which is no list and never ends by itself)."""
    found = []
    for path, operations in app.openapi()["paths"].items():
        get = operations.get("get")
        if get is None or "{" in path or "text/event-stream" in get.get("responses", {}).get("200", {}).get(
                "content", {}):
            continue
        query = [p for p in get.get("parameters", []) if p["in"] == "query"]
        if query:
            found.append((path, query))
    return found


def test_the_lists_are_found(app: Any) -> None:
    paths = {path for path, _ in list_endpoints(app)}
    assert {"/api/v1/signals", "/api/v1/leads", "/api/v1/audit"} <= paths


def test_every_query_parameter_in_its_loose_forms(app: Any, client: Any, db_session: Session) -> None:
    admin = make_user(db_session, Role.ADMIN)
    lead = make_lead(db_session, assignee_id=admin.id)
    make_signal(db_session, lead)
    db_session.commit()
    headers = auth(app, admin)
    failures = []
    for path, parameters in list_endpoints(app):
        # Required parameters (a lead's id; free text as its documented example: a place) are always sent; each
        # parameter is then varied on its own.
        base = {p["name"]: (_schema(app, p).get("examples") or loose_values(app, p, str(lead.id))[0])[0]
                for p in parameters if p.get("required")}
        for parameter in parameters:
            values, must_accept = loose_values(app, parameter, str(lead.id))
            for value in values:
                response = client.get(path, headers=headers, params={**base, parameter["name"]: value})
                # Free text that names nothing (an unknown portfolio or user) may be refused, saying so.
                refused_by_meaning = response.status_code in (404, 422) and (
                    parameter["name"] in response.text or value in response.text)
                ok = response.status_code == 200 or (not must_accept and refused_by_meaning)
                if not ok:
                    failures.append(f"{path}?{parameter['name']}={value!r} → {response.status_code} "
                                    f"{response.text[:200]}")
    assert failures == [], "\n".join(failures)


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "0001-01-01T00:00:00+14:00", "9999-12-31T23:00-05:00"])
def test_an_unreadable_or_impossible_time_is_a_422_naming_the_parameter(app: Any, client: Any, db_session: Session,
                                                                        value: str) -> None:
    admin = make_user(db_session, Role.ADMIN)
    db_session.commit()
    for path, parameters in list_endpoints(app):
        for parameter in parameters:
            schema = _schema(app, parameter)
            if schema.get("format") != "date-time":
                continue
            response = client.get(path, headers=auth(app, admin), params={parameter["name"]: value})
            assert response.status_code == 422, (path, parameter["name"], response.text)
            assert parameter["name"] in response.text


def test_a_nul_character_anywhere_is_a_422(app: Any, client: Any, db_session: Session) -> None:
    admin = make_user(db_session, Role.ADMIN)
    db_session.commit()
    headers = auth(app, admin)
    assert client.get("/api/v1/audit", headers=headers, params={"actor": "a\x00b"}).status_code == 422
    body = client.post("/api/v1/teams", headers=headers, json={"name": "night\u0000shift"})
    assert body.status_code == 422 and body.json()["errors"][0]["field"] == "body"
    assert client.post("/api/v1/teams", headers=headers, json={"name": "100%00 night shift"}).status_code == 201


#: Reports, not lists: their counts are the figures asked for (leads per area), not a page's total.
COUNTING_REPORTS = {"/api/v1/local/map"}


def test_no_list_counts_an_unbounded_set_or_pages_past_the_ceiling(app: Any, client: Any, db_session: Session,
                                                                   migrated_engine: Any) -> None:
    """Every list endpoint, as an admin with no filter: a count is always a capped one (a LIMIT inside), a list
    that counts on request (``count``) does not count unasked, and an offset beyond the ceiling is refused before
    any query runs."""
    import re

    from sqlalchemy import event

    from upswing.core.pagination import MAX_OFFSET

    admin = make_user(db_session, Role.ADMIN)
    db_session.commit()
    headers = auth(app, admin)
    statements: list[str] = []

    def capture(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    bind = db_session.get_bind()
    event.listen(bind, "before_cursor_execute", capture)
    try:
        for path, parameters in list_endpoints(app):
            names = {p["name"] for p in parameters}
            base = {p["name"]: loose_values(app, p, str(admin.id))[0][0] for p in parameters if p.get("required")}
            statements.clear()
            client.get(path, headers=headers, params=base)
            counts = [s for s in statements if re.search(r"count\s*\(", s, re.IGNORECASE)]
            if "count" in names:
                assert counts == [], (path, counts)
                statements.clear()
                assert client.get(path, headers=headers, params={**base, "count": True}).status_code == 200, path
                counts = [s for s in statements if re.search(r"count\s*\(", s, re.IGNORECASE)]
                assert counts, path
            for statement in [] if path in COUNTING_REPORTS else counts:
                assert re.search(r"\bLIMIT\b", statement, re.IGNORECASE), (path, statement)
            if "offset" in names:
                too_deep = client.get(path, headers=headers, params={**base, "offset": MAX_OFFSET + 1})
                assert too_deep.status_code == 422 and "offset" in too_deep.text, path
    finally:
        event.remove(bind, "before_cursor_execute", capture)
