"""The dashboard's typed API client is generated from a committed copy of the OpenAPI document: the copy must be
the running code's (regenerate with `make api-client`)."""

from __future__ import annotations

from pathlib import Path

from upswing.openapi_dump import document, render

SNAPSHOT = Path(__file__).resolve().parents[1] / "dashboard" / "src" / "api" / "openapi.json"


def test_the_committed_openapi_document_is_current() -> None:
    assert SNAPSHOT.is_file(), "dashboard/src/api/openapi.json is missing: run `make api-client`"
    assert SNAPSHOT.read_text(encoding="utf-8") == render(document()), (
        "the API changed: run `make api-client` and commit dashboard/src/api/openapi.json and schema.d.ts")
