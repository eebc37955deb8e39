"""MkDocs hooks: the reference pages are generated from the code at build time, so they can never be stale.

- ``reference/schema.md``: a Mermaid ``erDiagram`` per domain, from ``upswing.models``' SQLAlchemy metadata;
- ``reference/api.md``: a table per tag of the OpenAPI document (``dashboard/src/api/openapi.json``, which CI keeps
  current) with method, path, summary and the roles allowed (from the role-matrix tests);
- ``reference/tasks.md``: the registered background tasks with their schedules, and the outbox consumers.

Pages under ``docs/`` that the nav in ``mkdocs.yml`` does not list are added under "More" (so a new page never
breaks the strict build, and never goes missing from the site).

Mermaid ships with the site: ``javascripts/mermaid.min.js`` is copied from the dashboard's npm packages
(``dashboard/node_modules/mermaid``, pinned in its package.json), so the diagrams render offline and no page loads
anything from a CDN.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import sys
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
OPENAPI = ROOT / "dashboard" / "src" / "api" / "openapi.json"
MERMAID_JS = ROOT / "dashboard" / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"
#: Where the site serves it; mkdocs.yml lists it under extra_javascript, which Material's loader finds already
#: loaded (a global ``mermaid``) instead of fetching it from unpkg.
MERMAID_URI = "javascripts/mermaid.min.js"
GENERATED_NOTE = "<!-- Generated at build time by docs/hooks.py: do not edit. -->\n\n"
ROLE_ORDER = ("admin", "manager", "agent", "viewer")


# --------------------------------------------------------------------------------------------------
# Navigation: every page is reachable


def _nav_pages(nav: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(nav, str):
        found.add(nav)
    elif isinstance(nav, list):
        for item in nav:
            found |= _nav_pages(item)
    elif isinstance(nav, dict):
        for value in nav.values():
            found |= _nav_pages(value)
    return found


def _title(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return path.stem.replace("-", " ").capitalize()


#: Where pages that mkdocs.yml does not list yet go (by file name), before the catch-all "More".
PLACEMENT = {"tracking.md": "Data and integrations", "matching.md": "Data and integrations",
             "service-catalog.md": "Data and integrations", "services.md": "Data and integrations",
             "geo.md": "Data and integrations", "market.md": "Using Upswing", "uptime.md": "Operations",
             "soak.md": "Operations", "supabase.md": "Operations", "faults.md": "Operations"}


def on_config(config: Any) -> Any:
    nav = config["nav"] or []
    listed = _nav_pages(nav)
    missing = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")
                     if p.relative_to(DOCS).as_posix() not in listed)
    sections = {next(iter(item)): item[next(iter(item))] for item in nav
                if isinstance(item, dict) and len(item) == 1 and isinstance(next(iter(item.values())), list)}
    more: list[dict[str, str]] = []
    for page in missing:
        section = sections.get(PLACEMENT.get(page, ""))
        (section if section is not None else more).append({_title(DOCS / page): page})
    if more:
        nav.append({"More": more})
    config["nav"] = nav
    return config


# --------------------------------------------------------------------------------------------------
# Database schema


def _type_name(column: Any) -> str:
    try:
        name = column.type.compile(dialect=_postgres_dialect())
    except Exception:  # a type only one dialect knows
        name = type(column.type).__name__
    name = re.sub(r"\(.*\)", "", str(name)).strip().lower().replace(" ", "_")
    return re.sub(r"[^a-z0-9_]", "", name) or "value"


_DIALECT: Any = None


def _postgres_dialect() -> Any:
    global _DIALECT
    if _DIALECT is None:
        from sqlalchemy.dialects import postgresql

        _DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]
    return _DIALECT


def _domain_of_tables() -> dict[str, str]:
    import upswing.models  # noqa: F401 - every model on the metadata
    from upswing.core.db import Base

    domains: dict[str, str] = {}
    for mapper in Base.registry.mappers:
        table = mapper.local_table
        if table is None or not hasattr(table, "name"):
            continue
        parts = mapper.class_.__module__.split(".")
        domains[str(table.name)] = parts[1] if len(parts) > 1 else "core"
    for table in Base.metadata.tables.values():  # tables without a mapped class
        domains.setdefault(table.name, "core")
    return domains


def schema_page() -> str:
    from upswing.core.db import Base

    domains = _domain_of_tables()
    by_domain: dict[str, list[Any]] = defaultdict(list)
    for table in Base.metadata.sorted_tables:
        by_domain[domains.get(table.name, "core")].append(table)
    lines = [GENERATED_NOTE, "# Database schema\n\n",
             f"{len(Base.metadata.tables)} tables, generated from the SQLAlchemy models (`upswing.models`), the same "
             "metadata the migrations are checked against (`tests/core/test_migrations.py`). One diagram per domain: "
             "its tables with their columns (PK primary key, FK foreign key, UK unique), and the tables of other "
             "domains they refer to. Encrypted PII columns are `text` holding ciphertext (docs/security.md).\n\n",
             "| domain | tables |\n|---|---|\n"]
    for domain in sorted(by_domain):
        lines.append(f"| [{domain}](#{domain}) | {', '.join(f'`{t.name}`' for t in by_domain[domain])} |\n")
    for domain in sorted(by_domain):
        tables = by_domain[domain]
        lines.append(f"\n## {domain}\n\n```mermaid\nerDiagram\n")
        relations: list[str] = []
        for table in tables:
            fk_columns = {fk.parent.name for fk in table.foreign_keys}
            unique = {c.name for c in table.columns if c.unique}
            for constraint in table.constraints:
                cols = list(getattr(constraint, "columns", []))
                if type(constraint).__name__ == "UniqueConstraint" and len(cols) == 1:
                    unique.add(cols[0].name)
            lines.append(f"    {table.name} {{\n")
            for column in table.columns:
                keys = [k for k, on in (("PK", column.primary_key), ("FK", column.name in fk_columns),
                                        ("UK", column.name in unique)) if on]
                lines.append(f"        {_type_name(column)} {column.name}{' ' + ', '.join(keys) if keys else ''}\n")
            lines.append("    }\n")
            for fk in sorted(table.foreign_keys, key=lambda f: f.parent.name):
                target = fk.column.table.name
                optional = "o" if fk.parent.nullable else "|"
                relations.append(f'    {target} ||--{optional}{{ {table.name} : "{fk.parent.name}"\n')
        lines.extend(relations)
        lines.append("```\n")
    return "".join(lines)


# --------------------------------------------------------------------------------------------------
# API reference


def _role_names(node: ast.AST, names: dict[str, set[str]]) -> set[str] | None:
    """Roles of a role-matrix row: a set of ``Role.X`` / names bound to roles, or a name bound to a set."""
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Role":
        return {node.attr.lower()}
    if isinstance(node, ast.Set | ast.List | ast.Tuple):
        roles: set[str] = set()
        for element in node.elts:
            found = _role_names(element, names)
            if found is None:
                return None
            roles |= found
        return roles
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in {"set", "frozenset"}:
        return _role_names(node.args[0], names) if node.args else set()
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr | ast.Sub):
        left, right = _role_names(node.left, names), _role_names(node.right, names)
        if left is None or right is None:
            return None
        return left | right if isinstance(node.op, ast.BitOr) else left - right
    return None


def _matrix_rows(path: Path) -> dict[tuple[str, str], set[str]]:
    """(method, path) → roles allowed, read from a role-matrix file's source (nothing of it is run)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: dict[str, set[str]] = {role.upper(): {role} for role in ROLE_ORDER}
    rows: dict[tuple[str, str], set[str]] = {}
    for node in tree.body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        if value is None:
            continue
        if len(targets) == 1 and isinstance(targets[0], ast.Tuple) and isinstance(value, ast.Tuple):
            for target, element in zip(targets[0].elts, value.elts, strict=False):
                if isinstance(target, ast.Name) and (roles := _role_names(element, names)) is not None:
                    names[target.id] = roles
            continue
        name = targets[0].id if len(targets) == 1 and isinstance(targets[0], ast.Name) else None
        if name is None:
            continue
        roles = _role_names(value, names)
        if roles is not None:
            names[name] = roles
            continue
        if isinstance(value, ast.List):
            for element in value.elts:
                if (isinstance(element, ast.Tuple) and len(element.elts) >= 3
                        and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in element.elts[:2])):
                    found = _role_names(element.elts[2], names)
                    if found is not None:
                        method, route = (e.value for e in element.elts[:2])  # type: ignore[attr-defined]
                        rows[(str(method).upper(), str(route))] = found
    return rows


def _imported_rows(path: Path) -> dict[tuple[str, str], set[str]]:
    """A domain's role matrix (``ROUTES``), imported as the role-matrix test imports it."""
    import importlib.util

    for extra in (ROOT / "tests", ROOT / "src"):
        if str(extra) not in sys.path:
            sys.path.append(str(extra))
    spec = importlib.util.spec_from_file_location(f"docs_role_matrix_{path.parent.name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {(method.upper(), route): {getattr(role, "value", str(role)).lower() for role in roles}
            for method, route, roles in module.ROUTES}


def route_roles() -> dict[tuple[str, str], set[str]]:
    """(method, path) → roles allowed, from the role-matrix tests (the inline matrix is read, the domains' files
    imported; a file that cannot be loaded is read as far as its source allows)."""
    roles: dict[tuple[str, str], set[str]] = {}
    tests = ROOT / "tests"
    inline = tests / "account" / "test_role_matrix.py"
    if inline.is_file():
        roles.update(_matrix_rows(inline))
    for path in sorted(tests.glob("*/role_matrix.py")):
        try:
            roles.update(_imported_rows(path))
        except Exception:  # an import that needs the test environment: the literal rows still count
            try:
                roles.update(_matrix_rows(path))
            except (SyntaxError, ValueError):
                continue
    return roles


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


def api_page() -> str:
    document = json.loads(OPENAPI.read_text(encoding="utf-8"))
    roles = route_roles()
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = defaultdict(list)
    for route, operations in document["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or method.startswith("x-") or method == "parameters":
                continue
            for tag in operation.get("tags") or ["other"]:
                by_tag[tag].append((method.upper(), route, operation))
    count = sum(len(v) for v in by_tag.values())
    info = document.get("info", {})
    lines = [GENERATED_NOTE, "# API reference\n\n",
             f"{info.get('title', 'Upswing')} API {info.get('version', '')}: {count} operations, generated from the "
             "OpenAPI document `dashboard/src/api/openapi.json` (CI fails when it is not current). The running server "
             "serves the full, interactive reference at `/docs` (Swagger UI) and `/redoc`, and the document at "
             "`/openapi.json`. Every call but signing in takes a bearer token (`POST /api/v1/auth/token`, or a "
             "machine client's, docs/security.md). **Roles** are those the role-matrix tests "
             "(`tests/*/role_matrix.py`) check may call the route; others get 403. Errors have one shape, "
             "`ErrorResponse` (technical.md, \"Errors\").\n\n"]
    for tag in sorted(by_tag):
        lines.append(f"## {tag}\n\n| method | path | summary | roles |\n|---|---|---|---|\n")
        for method, route, operation in sorted(by_tag[tag], key=lambda row: (row[1], row[0])):
            allowed = roles.get((method, route))
            if allowed is None:
                shown = "public" if not operation.get("security") else "—"
            else:
                shown = ", ".join(role for role in ROLE_ORDER if role in allowed)
            summary = operation.get("summary", "")
            description = (operation.get("description") or "").strip().split("\n\n")[0]
            text = f"**{summary}**" + (f": {description}" if description else "")
            lines.append(f"| `{method}` | `{_cell(route)}` | {_cell(text)} | {shown} |\n")
        lines.append("\n")
    return "".join(lines)


# --------------------------------------------------------------------------------------------------
# Task catalogue


def _every(interval: timedelta) -> str:
    seconds = int(interval.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            n = seconds // size
            return f"every {n} {unit}{'s' if n != 1 else ''}" if n != 1 else f"every {unit}"
    return f"every {seconds} s"


def _doc(fn: Any) -> str:
    text = inspect.getdoc(fn) or ""
    return _cell(text.split("\n\n")[0])


def tasks_page() -> str:
    from upswing.core import outbox, tasks

    declared = tasks.registered_tasks()
    schedules: dict[str, list[str]] = defaultdict(list)
    for schedule in tasks.schedules():
        extra = ", ".join([*map(repr, schedule.args), *(f"{k}={v!r}" for k, v in schedule.kwargs.items())])
        schedules[schedule.task_name].append(_every(schedule.every) + (f" ({extra})" if extra else ""))
    lines = [GENERATED_NOTE, "# Task catalogue\n\n",
             f"{len(declared)} background tasks, generated from the tasks registered in `upswing.core.tasks` (the "
             "modules in `BUILTIN_TASK_MODULES`). Both runners execute them: the embedded runner (`upswing serve` / "
             "`upswing worker` with `UPSWING_TASK_RUNNER=embedded`) and Celery (`upswing worker` + `upswing "
             "scheduler`). A scheduled task runs once per period whatever the number of schedulers (its run has an "
             "idempotency key per period). `upswing worker --help` and technical.md say more.\n\n",
             "| task | schedule | attempts | module | what it does |\n|---|---|---|---|---|\n"]
    for name, declared_task in declared.items():
        module = declared_task.fn.__module__.removeprefix("upswing.")
        when = "; ".join(schedules.get(name, [])) or "on demand"
        lines.append(f"| `{name}` | {when} | {declared_task.max_attempts} | `{module}` | {_doc(declared_task.fn)} |\n")
    consumers = outbox.registered_consumers()
    lines.append(f"\n## Outbox consumers\n\n{len(consumers)} consumers of domain events (technical.md, \"The event "
                 "outbox\"), run by the `events.deliver` task after every commit that emits events and every 30 s. "
                 "`upswing events status` shows each one's backlog.\n\n"
                 "| consumer | events | attempts | module | what it does |\n|---|---|---|---|---|\n")
    for name, consumer in consumers.items():
        handler = getattr(consumer, "batch_handler", None) or consumer.handler
        module = getattr(handler, "__module__", "").removeprefix("upswing.")
        events = ", ".join(f"`{e}`" for e in sorted(consumer.event_types))
        lines.append(f"| `{name}` | {events} | {consumer.max_attempts} | `{module}` | {_doc(handler)} |\n")
    return "".join(lines)


# --------------------------------------------------------------------------------------------------


GENERATORS = {"reference/schema.md": schema_page, "reference/api.md": api_page, "reference/tasks.md": tasks_page}


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    if str(ROOT / "src") not in sys.path:
        sys.path.insert(0, str(ROOT / "src"))
    for uri, generate in GENERATORS.items():
        files.append(File.generated(config, uri, content=generate()))
    files.append(File.generated(config, MERMAID_URI, abs_src_path=str(_mermaid_js())))
    return files


def _mermaid_js() -> Path:
    if not MERMAID_JS.is_file():
        from mkdocs.exceptions import PluginError

        raise PluginError(f"{MERMAID_JS.relative_to(ROOT)} is missing: the docs ship Mermaid from the dashboard's "
                          "npm packages, run `npm ci` in dashboard/ first")
    return MERMAID_JS


def write_all(target: Path = DOCS) -> None:
    """Write the generated pages to disk (to read them without building the site)."""
    for uri, generate in GENERATORS.items():
        path = target / uri
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(generate(), encoding="utf-8")


if __name__ == "__main__":
    write_all(Path(sys.argv[1]) if len(sys.argv) > 1 else DOCS)
    print("written", ", ".join(GENERATORS), file=sys.stderr)
