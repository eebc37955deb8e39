"""Write the API's OpenAPI document (the dashboard's typed client is generated from it):
``python -m upswing.openapi_dump dashboard/src/api/openapi.json``. ``tests/test_openapi_snapshot.py`` fails
when the committed copy differs from the running code."""

from __future__ import annotations

import json
import secrets
import sys
from pathlib import Path
from typing import Any


def document() -> dict[str, Any]:
    from upswing.app import create_app
    from upswing.settings import Settings

    # Any secret will do: the document does not depend on it, and nothing is served.
    app = create_app(Settings(secret_key=secrets.token_urlsafe(48)))
    return app.openapi()


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    target = Path(argv[1]) if len(argv) > 1 else Path("dashboard/src/api/openapi.json")
    target.write_text(render(document()), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
