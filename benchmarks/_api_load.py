"""Closed-loop HTTP load for benchmarks/api_scale.py when wrk is not installed (run as its own process).

    python benchmarks/_api_load.py SPEC.json

SPEC: {"base_url", "paths": [...], "tokens": [...], "clients": N, "seconds": S}. N asyncio clients, each with its
own token, send GET requests one after the other (the next path of the list each time) for S seconds. Prints one
line ``JSON {...}`` with the same figures as the wrk script (latencies in microseconds), then ``SAMPLE`` and the
first failure. Bodies are read but not parsed, to keep the generator light: it shares the machine with the server.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx


def percentile(ordered: list[float], p: float) -> float:
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    paths: list[str] = spec["paths"]
    tokens: list[str] = spec["tokens"]
    clients: int = spec["clients"]
    latencies: list[float] = []
    counts = {"connect_errors": 0, "read_errors": 0, "write_errors": 0, "timeouts": 0, "non2xx": 0}
    sample: list[str] = []
    by_status: dict[str, int] = {}  # "401 /api/v1/leads/{id}" or "ReadError /api/v1/signals": how many
    samples: dict[str, str] = {}  # the first answer of each of those kinds
    started = time.perf_counter()
    deadline = started + float(spec["seconds"])
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=spec["base_url"], limits=limits, timeout=60.0) as http:

        def note(exc: Exception, path: str) -> None:
            kind = f"{type(exc).__name__} {path.split('?')[0]}"
            by_status[kind] = by_status.get(kind, 0) + 1
            samples.setdefault(kind, f"{exc} (after {time.perf_counter() - started:.0f} s)"[:300])

        async def client(number: int) -> None:
            headers = {"Authorization": f"Bearer {tokens[number % len(tokens)]}", "Accept": "application/json"}
            position = number * 7919
            while time.perf_counter() < deadline:
                position += 1
                path = paths[position % len(paths)]
                begun = time.perf_counter()
                try:
                    response = await http.get(path, headers=headers)
                except httpx.TimeoutException as exc:
                    counts["timeouts"] += 1
                    note(exc, path)
                    continue
                except httpx.ConnectError as exc:
                    counts["connect_errors"] += 1
                    note(exc, path)
                    await asyncio.sleep(0.05)
                    continue
                except httpx.HTTPError as exc:
                    counts["read_errors"] += 1
                    note(exc, path)
                    continue
                latencies.append((time.perf_counter() - begun) * 1e6)
                if not 200 <= response.status_code < 300:
                    counts["non2xx"] += 1
                    kind = f"{response.status_code} {path.split('?')[0]}"
                    by_status[kind] = by_status.get(kind, 0) + 1
                    samples.setdefault(kind, f"{response.text[:200]} (after {time.perf_counter() - started:.0f} s; "
                                             f"{response.headers.get('www-authenticate', '')})")
                    if not sample:
                        sample.append(f"{response.status_code} {response.text[:300]}")

        await asyncio.gather(*(client(number) for number in range(clients)))
    duration = time.perf_counter() - started
    latencies.sort()
    return {"requests": len(latencies), "duration_us": int(duration * 1e6),
            "p50_us": int(percentile(latencies, 50)), "p95_us": int(percentile(latencies, 95)),
            "p99_us": int(percentile(latencies, 99)),
            "mean_us": round(sum(latencies) / len(latencies), 1) if latencies else 0.0,
            "max_us": int(latencies[-1]) if latencies else 0, **counts, "errors_by_kind": by_status,
            "error_samples": samples, "_sample": sample[0] if sample else ""}


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    try:
        import uvloop
    except ImportError:
        figures = asyncio.run(run(spec))
    else:
        figures = uvloop.run(run(spec))
    sample = figures.pop("_sample")
    print("JSON " + json.dumps(figures))
    print("SAMPLE " + sample.replace("\n", " "))


if __name__ == "__main__":
    main()
