"""A failed scrape must not look like a quiet day: an upload without items, or one that is not JSON, is an error
(API 422 naming the problem, CLI exit 1) and stores nothing, on both databases."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factories import auth, make_user
from upswing.account.models import Role
from upswing.observation.models import Observation

GOOD_ITEM = {"publicIdentifier": "quiet-day", "linkedinUrl": "https://www.linkedin.com/in/quiet-day",
             "firstName": "Quinn", "lastName": "Day", "scrapedAt": "2026-11-01T06:00:00Z", "experience": []}

# (file content, what the message must name)
BAD_EXPORTS = [
    pytest.param(b"", "is empty (0 bytes)", id="zero-bytes"),
    pytest.param(b" \n\t\r\n  \n", "holds only whitespace", id="whitespace"),
    pytest.param(b"\xef\xbb\xbf\n", "holds only whitespace", id="bom-only"),
    pytest.param(b"[]", "is an empty JSON array", id="empty-array"),
    pytest.param(b"  [ \n ]\n", "is an empty JSON array", id="empty-array-spaced"),
    pytest.param(b"<html><body>502 Bad Gateway</body></html>", "is neither a JSON array nor JSON Lines",
                 id="html-error-page"),
    pytest.param(b"name,headline\nQuinn,Welder\n", "is neither a JSON array nor JSON Lines", id="csv"),
    pytest.param(b'[{"publicIdentifier": "cut-off"', "not valid JSON", id="truncated-array"),
]


def _observations(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Observation)) or 0


@pytest.mark.parametrize(("content", "problem"), BAD_EXPORTS)
def test_api_refuses_an_apify_upload_without_items(app: Any, client: Any, db_session: Session, content: bytes,
                                                   problem: str) -> None:
    manager = make_user(db_session, Role.MANAGER)
    response = client.post("/api/v1/ingest/apify", headers=auth(app, manager), data={"actor": "auto"},
                           files={"file": ("export.json", io.BytesIO(content), "application/json")})
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert "export.json" in detail and problem in detail
    assert _observations(db_session) == 0


def test_api_still_ingests_a_good_upload(app: Any, client: Any, db_session: Session) -> None:
    manager = make_user(db_session, Role.MANAGER)
    body = (json.dumps(GOOD_ITEM) + "\n").encode()
    response = client.post("/api/v1/ingest/apify", headers=auth(app, manager),
                           files={"file": ("export.jsonl", io.BytesIO(body), "application/x-ndjson")})
    assert response.status_code == 200, response.text
    assert response.json()["observations_created"] == 1


@pytest.mark.parametrize(("body", "where"), [
    pytest.param(b"", ["body"], id="no-body"),
    pytest.param(b'{"items": []}', ["body", "items"], id="zero-items"),
    pytest.param(b'{"items": [{"text": "   "}]}', ["body", "items", 0, "text"], id="blank-text"),
    pytest.param(b"not json at all", ["body", 0], id="not-json"),
])
def test_api_refuses_a_text_upload_without_items(app: Any, client: Any, db_session: Session, body: bytes,
                                                 where: list[object]) -> None:
    manager = make_user(db_session, Role.MANAGER)
    response = client.post("/api/v1/ingest/texts", content=body,
                           headers={**auth(app, manager), "Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert errors and errors[0]["field"] == ".".join(map(str, where)) and errors[0]["message"]
    assert _observations(db_session) == 0


@pytest.mark.parametrize(("content", "problem"), BAD_EXPORTS)
def test_cli_refuses_an_export_without_items(cli: Any, tmp_path: Path, content: bytes, problem: str) -> None:
    assert cli("db", "upgrade").exit_code == 0
    export = tmp_path / "export.json"
    export.write_bytes(content)
    for command in (["ingest", "apify", str(export)], ["ingest", "texts", str(export)]):
        result = cli(*command)
        assert result.exit_code == 1, result.output
        assert "export.json" in result.output and problem in result.output
        assert "0 items" not in result.output and "0 texts" not in result.output
    assert "0 unlinked observation(s)" in cli("observations", "unlinked").output


def test_cli_ingests_a_good_export_after_refusing_an_empty_one(cli: Any, tmp_path: Path) -> None:
    assert cli("db", "upgrade").exit_code == 0
    export = tmp_path / "export.jsonl"
    export.write_text("\n\n")
    assert cli("ingest", "apify", str(export)).exit_code == 1
    export.write_text(json.dumps(GOOD_ITEM) + "\n")
    result = cli("ingest", "apify", str(export))
    assert result.exit_code == 0 and "1 items: 1 new observations" in result.output
