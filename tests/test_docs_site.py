"""The documentation site's generated reference pages (docs/hooks.py) cover the code: every table, every API
operation with its roles, every task. (The strict build itself runs in `make test`: `make docs`.)"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType

import yaml

from upswing.core import tasks
from upswing.core.db import Base

ROOT = Path(__file__).resolve().parent.parent


def _hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_schema_page_has_every_table_and_foreign_key() -> None:
    page = _hooks().schema_page()
    blocks = re.findall(r"```mermaid\nerDiagram\n(.*?)```", page, flags=re.S)
    assert blocks
    body = "".join(blocks)
    for table in Base.metadata.tables.values():
        assert re.search(rf"^    {re.escape(table.name)} \{{$", body, flags=re.M), table.name
        for fk in table.foreign_keys:
            assert f'{fk.column.table.name} ||--' in body and f'{{ {table.name} : "{fk.parent.name}"' in body
    assert "        uuid id PK\n" in body


def test_api_page_lists_every_operation_with_its_roles() -> None:
    page = _hooks().api_page()
    document = json.loads((ROOT / "dashboard" / "src" / "api" / "openapi.json").read_text())
    rows = {(m, p): roles for m, p, roles in re.findall(r"^\| `(\w+)` \| `([^`]+)` \| .* \| ([^|]+) \|$", page,
                                                         flags=re.M)}
    for path, operations in document["paths"].items():
        for method in operations:
            assert (method.upper(), path) in rows, (method, path)
    assert rows[("GET", "/api/v1/users")].strip() == "admin"
    assert rows[("GET", "/api/v1/signals")].strip() == "admin, manager, agent, viewer"
    secured_without_roles = [key for key, roles in rows.items() if roles.strip() == "—"]
    assert not secured_without_roles  # every signed-in route is in a role matrix (tests/*/role_matrix.py)


def test_task_page_lists_every_task_and_schedule() -> None:
    page = _hooks().tasks_page()
    for name in tasks.registered_tasks():
        assert f"| `{name}` |" in page
    assert re.search(r"^\| `backup\.create` \| every day \|", page, flags=re.M)
    assert re.search(r"^\| `audit\.seal` \| every minute \|", page, flags=re.M)
    assert "| `alert.evaluate` | `signal.created`, `signal.updated` |" in page


def test_every_page_in_the_nav_exists() -> None:
    config = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=yaml.Loader)  # noqa: S506 - our own file's tags
    generated = set(_hooks().GENERATORS)

    def pages(node: object) -> list[str]:
        if isinstance(node, str):
            return [node]
        if isinstance(node, list):
            return [page for item in node for page in pages(item)]
        if isinstance(node, dict):
            return [page for value in node.values() for page in pages(value)]
        return []

    listed = pages(config["nav"])
    assert "index.md" in listed and "runbooks.md" in listed and "backup.md" in listed
    missing = [page for page in listed if page not in generated and not (ROOT / "docs" / page).is_file()]
    assert not missing
