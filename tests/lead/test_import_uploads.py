"""Uploads are streamed to disk with the size limit enforced as they arrive (413, the rest never read), a 422 is
small whatever the file, and the CLI prints the first errors and the counts."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factories import auth, make_user
from upswing.account.models import Role
from upswing.lead.models import Lead

BOUNDARY = "upswing-test-boundary"
CHUNK = 64 * 1024


def lead_csv(count: int, *, bad_every: int = 0) -> bytes:
    lines = ["external_id,first_name,last_name,email,state"]
    for n in range(1, count + 1):
        email = f"secret-bad-value-{n}" if bad_every and n % bad_every == 0 else f"p{n}@example.com"
        lines.append(f"U-{n},First{n},Last,{email},TX")
    return ("\n".join(lines) + "\n").encode()


def multipart(field: str, filename: str, content: bytes, **fields: str) -> bytes:
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields.items()]
    parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
                 f"Content-Type: application/octet-stream\r\n\r\n".encode() + content + b"\r\n")
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def post_streamed(app: Any, path: str, headers: dict[str, str], body: bytes, *, content_type: str,
                  declare_length: bool = False) -> tuple[int, dict[str, Any], int]:
    """POST ``body`` straight to the ASGI app in 64 KiB messages: (status, JSON body, messages the app read)."""
    chunks = [body[i:i + CHUNK] for i in range(0, len(body), CHUNK)] or [b""]
    read = 0
    sent: list[dict[str, Any]] = []
    raw_headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    raw_headers.append((b"content-type", content_type.encode()))
    if declare_length:
        raw_headers.append((b"content-length", str(len(body)).encode()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": raw_headers,
             "server": ("testserver", 80), "client": ("127.0.0.1", 50000)}

    async def receive() -> dict[str, Any]:
        nonlocal read
        if read < len(chunks):
            read += 1
            return {"type": "http.request", "body": chunks[read - 1], "more_body": read < len(chunks)}
        await asyncio.sleep(0)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    payload = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, json.loads(payload or b"{}"), read


@pytest.fixture
def manager_headers(app: Any, db_session: Session) -> dict[str, str]:
    headers = auth(app, make_user(db_session, Role.MANAGER))
    db_session.commit()
    return headers


def limit_uploads(app: Any, max_bytes: int) -> None:
    app.state.settings = app.state.settings.model_copy(update={"import_max_bytes": max_bytes})


@pytest.mark.parametrize(("path", "field", "filename", "content_type"), [
    ("/api/v1/leads/import", "file", "leads.csv", f"multipart/form-data; boundary={BOUNDARY}"),
    ("/api/v1/ingest/apify", "file", "export.jsonl", f"multipart/form-data; boundary={BOUNDARY}"),
    ("/api/v1/ingest/texts", "", "", "application/json"),
])
def test_an_upload_over_the_limit_is_refused_as_it_arrives(app: Any, db_session: Session,
                                                           manager_headers: dict[str, str], path: str, field: str,
                                                           filename: str, content_type: str) -> None:
    limit_uploads(app, 200_000)
    content = lead_csv(200_000)  # about 8 MB
    body = multipart(field, filename, content) if field else \
        json.dumps({"source": "x", "items": [{"text": "y" * 1000}] * 8000}).encode()
    status, payload, read = post_streamed(app, path, manager_headers, body, content_type=content_type)
    assert status == 413 and "larger than 200000 bytes" in payload["detail"]
    # A JSON body goes through core.api_errors.RejectNulCharacters, which reads it whole before any route sees
    # it: for uploads (multipart) the route's limit holds as the body arrives.
    streamed = content_type.startswith("multipart/")
    if streamed:
        # Read up to the limit (and the room for the form's fields), not one message more: never the whole body.
        assert read <= (200_000 + 64 * 1024) // CHUNK + 2 < len(body) // CHUNK
    # A declared length over the limit: refused before the body is read at all.
    status, _, read = post_streamed(app, path, manager_headers, body, content_type=content_type,
                                    declare_length=True)
    assert status == 413 and (read == 0 or not streamed)
    assert db_session.scalar(select(func.count()).select_from(Lead)) == 0


def test_an_upload_within_the_limit_is_spooled_and_imported(app: Any, db_session: Session,
                                                            manager_headers: dict[str, str]) -> None:
    content = lead_csv(60_000)  # about 2.6 MB: past the 1 MiB the form parser keeps in memory
    limit_uploads(app, len(content) + 10)
    status, payload, _ = post_streamed(app, "/api/v1/leads/import", manager_headers,
                                       multipart("file", "leads.csv", content, portfolio="spooled"),
                                       content_type=f"multipart/form-data; boundary={BOUNDARY}")
    assert status == 200, payload
    assert (payload["created"], payload["portfolio"]) == (60_000, "spooled")
    limit_uploads(app, len(content) - 1)  # the file part alone is checked exactly
    status, payload, _ = post_streamed(app, "/api/v1/leads/import", manager_headers,
                                       multipart("file", "leads.csv", content, portfolio="spooled"),
                                       content_type=f"multipart/form-data; boundary={BOUNDARY}")
    assert status == 413


def test_a_422_is_small_and_does_not_echo_the_file(app: Any, client: Any, db_session: Session,
                                                   manager_headers: dict[str, str]) -> None:
    content = lead_csv(20_000, bad_every=2)  # 10,000 bad e-mails, about 0.8 MB
    response = client.post("/api/v1/leads/import", headers=manager_headers, data={"portfolio": "api"},
                           files={"file": ("leads.csv", io.BytesIO(content), "text/csv")})
    assert response.status_code == 422
    assert len(response.content) < 20_000
    body = response.json()
    assert (body["error_count"], body["rejected"], body["total"]) == (10_000, 10_000, 20_000)
    assert body["errors_by_field"] == {"email": 10_000}
    assert body["errors"][0]["row"] == 3 and body["errors"][0]["field"] == "email"
    assert "secret-bad-value" not in response.text
    assert db_session.scalar(select(func.count()).select_from(Lead)) == 0

    response = client.post("/api/v1/leads/import", headers=manager_headers,
                           data={"portfolio": "api", "skip_invalid": "true"},
                           files={"file": ("leads.csv", io.BytesIO(content), "text/csv")})
    assert response.status_code == 200
    report = response.json()
    assert (report["created"], report["rejected"], report["error_count"], len(report["errors"])) == (
        10_000, 10_000, 10_000, 100)
    assert report["errors_by_field"] == {"email": 10_000} and report["rejects_file"] is None


def test_cli_prints_the_first_errors_and_the_counts(cli: Callable[..., Any], tmp_path: Path) -> None:
    assert cli("db", "upgrade").exit_code == 0
    path = tmp_path / "leads.csv"
    path.write_bytes(lead_csv(5_000, bad_every=2))
    result = cli("leads", "import", str(path))
    assert result.exit_code == 1
    assert "2500 of 5000 row(s) are invalid (2500 error(s): email 2500)" in result.output
    assert result.output.count("field 'email'") == 20
    assert "0 lead(s)" in cli("leads", "list").output

    result = cli("leads", "import", str(path), "--skip-invalid")
    assert result.exit_code == 0, result.output
    assert "5000 rows into portfolio 'default': 2500 created, 0 updated, 0 unchanged, 2500 rejected" in result.output
    assert "2500 error(s) in all: email 2500" in result.output
    assert f"Rejected rows saved to {tmp_path / 'leads.rejects.csv'}" in result.output
    assert len((tmp_path / "leads.rejects.csv").read_text().splitlines()) == 2501

    result = cli("leads", "import", str(path), "--skip-invalid")  # again: nothing changes
    assert "0 created, 0 updated, 2500 unchanged, 2500 rejected" in result.output
