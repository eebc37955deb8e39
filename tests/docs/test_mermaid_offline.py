"""The built documentation site draws its Mermaid diagrams with the copy of Mermaid it ships
(``javascripts/mermaid.min.js``, from the dashboard's npm packages), offline: a headless Chromium that may reach
nothing but loopback renders them, and no request leaves the machine.

Builds the site into a temporary directory (``mkdocs build``, a few seconds). Outside CI it is skipped when the
dashboard's npm packages (which hold Mermaid), Debian's chromium or Playwright for Python are missing; in CI
(``CI`` set) that is a failure.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# Material draws each diagram into a closed shadow root; opened here so the test can see the svg.
OPEN_SHADOW_ROOTS = ("const attach = Element.prototype.attachShadow; Element.prototype.attachShadow = "
                     "function (init) { return attach.call(this, {...init, mode: 'open'}); };")
ALL_DRAWN = ("() => { const diagrams = [...document.querySelectorAll('.mermaid')];"
             " return diagrams.length > 0 && diagrams.every((d) => d.shadowRoot?.querySelector('svg')); }")


MERMAID = ROOT / "dashboard" / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"


def _missing(what: str) -> NoReturn:
    """CI has everything this needs (.ci/run installs it): there a missing piece is a failure, not a skip."""
    if os.environ.get("CI"):
        pytest.fail(what)
    pytest.skip(what)


@pytest.fixture(scope="module")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not MERMAID.is_file():
        _missing("the dashboard's npm packages are not installed (cd dashboard && npm ci)")
    site = tmp_path_factory.mktemp("site")
    build = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(site)],  # noqa: S603
                           cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
                           env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert build.returncode == 0, build.stderr[-3000:]
    return site


def _pages_with_diagrams(site: Path) -> list[Path]:
    return [page for page in site.rglob("*.html") if 'class="mermaid"' in page.read_text(encoding="utf-8")]


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def site_url(built_site: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(built_site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_pages_with_diagrams_load_the_shipped_mermaid(built_site: Path) -> None:
    site = built_site
    assert (site / "javascripts" / "mermaid.min.js").stat().st_size > 100_000
    pages = _pages_with_diagrams(site)
    assert site / "reference" / "schema.html" in pages
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "javascripts/mermaid.min.js" in html and "unpkg" not in html, page


def test_diagrams_render_offline_in_chromium(built_site: Path, site_url: str) -> None:
    try:
        from playwright import sync_api
    except ImportError:
        _missing("Playwright for Python is not installed (pip install -e '.[dev]')")
    if not CHROMIUM.is_file():
        _missing(f"{CHROMIUM} is missing (apt-get install chromium)")
    # The smallest page with a diagram: the same loader on every page, and a few diagrams render in about a second.
    page_path = min(_pages_with_diagrams(built_site), key=lambda path: path.stat().st_size)
    url = f"{site_url}/{page_path.relative_to(built_site).as_posix()}"
    outside: list[str] = []
    errors: list[str] = []

    def only_loopback(route: Any) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            page = browser.new_page()
            page.add_init_script(OPEN_SHADOW_ROOTS)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.route("**/*", only_loopback)
            page.goto(url)
            page.wait_for_function(ALL_DRAWN, timeout=20_000)
            assert page.locator(".mermaid svg").count() >= 1
            assert page.locator(".mermaid svg", has_text="Syntax error").count() == 0
        finally:
            browser.close()
    assert not outside, outside
    assert not errors, errors
