"""The OpenAPI pages work offline: /docs and /redoc load their JavaScript, CSS and icon from the app itself (the
assets the installed ``fastapi-offline`` package ships), never from a CDN or Google Fonts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from upswing.app import create_app
from upswing.settings import Settings

CONTENT_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png", ".json": "application/json"}
_REFERENCE = re.compile(r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']|\burl:\s*'([^']+)'""")


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'docs.db'}"))
    with TestClient(app) as test_client:
        yield test_client


def _references(html: str) -> list[str]:
    return [a or b for a, b in _REFERENCE.findall(html)]


@pytest.mark.parametrize(("page", "expected"), [
    ("/docs", {"swagger-ui-bundle.js", "swagger-ui.css", "favicon.png", "openapi.json"}),
    ("/redoc", {"redoc.standalone.js", "favicon.png", "openapi.json"}),
])
def test_docs_pages_reference_only_local_assets_that_answer(client: TestClient, page: str,
                                                            expected: set[str]) -> None:
    response = client.get(page)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "http://" not in html and "https://" not in html and "fonts.googleapis" not in html
    references = _references(html)
    assert {Path(url).name for url in references} == expected
    shipped = files("fastapi_offline") / "static"
    for url in references:
        assert url.startswith("/") and not url.startswith("//"), url
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert CONTENT_TYPES[Path(url).suffix] in asset.headers["content-type"], (url, asset.headers)
        if url.startswith("/static/docs/"):
            assert asset.content == (shipped / Path(url).name).read_bytes()  # the package's copy, whole


def test_swagger_oauth2_redirect_is_served_and_docs_are_not_in_the_schema(client: TestClient) -> None:
    redirect = client.get("/docs/oauth2-redirect")
    assert redirect.status_code == 200 and "text/html" in redirect.headers["content-type"]
    paths = client.get("/openapi.json").json()["paths"]
    assert not {"/docs", "/redoc", "/docs/oauth2-redirect"} & set(paths)
