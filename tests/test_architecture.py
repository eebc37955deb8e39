"""Data flows one way (docs/technical.md, "Layers"): the import graph of src/upswing, parsed, must have no cycle
among modules outside the wiring, core/ must import no domain, and no module may import a domain above its own
layer. The checks run on the real source tree and on a copy with a deliberately added back-edge, which must fail.
"""

from __future__ import annotations

import ast
import itertools
import shutil
from collections.abc import Iterable
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "upswing"

#: Domain packages from the bottom of the flow to the top; a module may import its own layer and those below.
#: (source → observation → resolution → detection → signal → delivery, with account/audit usable by all.)
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"core", "settings"}),
    # Channels and transports (e-mail, webhooks, the live stream): they send what they are given and import no
    # domain, so any domain above may notify.
    frozenset({"notify"}),
    frozenset({"account", "audit"}),
    frozenset({"privacy"}),  # privacy modes and erasure tombstones, which every write path obeys
    # Offline geocoding and distances (pure functions over shipped data): leads get coordinates on import.
    frozenset({"geo"}),
    frozenset({"lead"}),
    frozenset({"observation"}),
    frozenset({"detection"}),
    frozenset({"source"}),
    frozenset({"resolution"}),
    frozenset({"signal"}),
    frozenset({"compliance"}),
    # Alerts react to signals through the outbox and ask the contact guard what each channel allows.
    frozenset({"alert"}),
    # Escalation reads signals' acknowledgement against business calendars and alerts the next level; the digest
    # gathers signals, alerts and escalations into one e-mail per user and day.
    frozenset({"escalation"}),
    frozenset({"digest"}),
    # Outcomes of the leads (payments, promises…), recorded from files, the API and signals.
    frozenset({"outcome"}),
    # The team's services catalog; consented first-party tracking (its engagement raises signals).
    frozenset({"service_catalog", "tracking"}),
    # Orchestration above the domains it calls: the pipeline (ingest → link → detect → signals), casework
    # (working a signal through the guard), duplicate leads, data-subject requests, keys, the demo; analytics
    # reads signals, their outcomes and feedback across the domains; crm pushes signals to CRMs and syncs back;
    # experiment assigns holdout arms and measures the lift from alerts and outcomes.
    # matching scores leads against services; discovery finds prospect companies through the sources.
    frozenset({"pipeline", "casework", "dedupe", "dsar", "keys", "demo", "fakes", "analytics", "crm",
               "experiment", "matching", "discovery", "backup"}),
)
#: Modules whose layer is not their package's: privacy's workflows act on every table.
MODULE_LAYERS = {f"privacy.{name}": "dsar" for name in ("service", "schemas", "suppression", "tasks")}
#: The market analysis of an area reads leads, signals and outcomes: it sits with analytics, not with geocoding.
MODULE_LAYERS["geo.market"] = "analytics"
#: Wiring: may import anything (it puts the layers together).
WIRING_SUFFIXES = ("api.py", "cli.py", "_api.py", "_cli.py")
WIRING_MODULES = {"app", "cli", "models", "worker", "openapi_dump", "__init__", "__main__"}


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_wiring(path: Path, root: Path) -> bool:
    relative = path.relative_to(root)
    if relative.parts[0] == "migrations":
        return True
    if len(relative.parts) == 1:
        return relative.stem in WIRING_MODULES
    return path.name.endswith(WIRING_SUFFIXES)


def imports_of(path: Path) -> Iterable[str]:
    """Every ``upswing.…`` module a file imports, at any depth (function-level imports count too)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def graph(root: Path) -> dict[str, set[str]]:
    """Module → the project modules it imports, for every module outside the wiring."""
    files = {module_name(p, root): p for p in root.rglob("*.py")}
    edges: dict[str, set[str]] = {}
    for name, path in files.items():
        if is_wiring(path, root):
            continue
        targets = set()
        for imported in imports_of(path):
            if not imported.startswith("upswing."):
                continue
            target = imported.removeprefix("upswing.")
            # "from upswing.x import y" names a module x.y when there is one, else the module x.
            if target in files:
                targets.add(target)
        edges[name] = targets - {name}
    return edges


def layer_of(module: str) -> int | None:
    package = MODULE_LAYERS.get(module, module.split(".")[0])
    return next((index for index, layer in enumerate(LAYERS) if package in layer), None)


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = itertools.count()

    def visit(node: str) -> None:
        index[node] = low[node] = next(counter)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in edges:
                continue  # wiring
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def violations(root: Path) -> list[str]:
    edges = graph(root)
    problems = [f"import cycle: {' → '.join(component)}" for component in cycles(edges)]
    for module, targets in sorted(edges.items()):
        own = layer_of(module)
        if own is None:
            problems.append(f"{module}: its package is in no layer (add it to LAYERS and docs/technical.md)")
            continue
        for target in sorted(targets):
            theirs = layer_of(target)
            if module.split(".")[0] == "core" and target.split(".")[0] not in ("core", "settings"):
                problems.append(f"{module} imports {target}: core/ imports no domain")
            elif theirs is not None and theirs > own:
                problems.append(f"{module} imports {target}: a layer above its own")
    return problems


def test_the_import_graph_flows_one_way() -> None:
    assert violations(SRC) == []


@pytest.mark.parametrize(("module", "back_edge"), [
    ("lead/models.py", "from upswing.signal.models import Signal"),  # a low domain importing a higher one
    ("core/db.py", "from upswing.lead.models import Lead"),  # core importing a domain
    ("signal/scoring.py", "from upswing.signal import service"),  # a cycle (service imports scoring)
])
def test_a_deliberate_back_edge_is_caught(tmp_path: Path, module: str, back_edge: str) -> None:
    copy = tmp_path / "upswing"
    shutil.copytree(SRC, copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{back_edge}\n", encoding="utf-8")
    assert violations(copy) != []
