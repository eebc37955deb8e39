"""A small Apify API v2 client on the shared HTTP layer, used by the Apify connectors.

Faithful to ``shared/reference/external-apis.md`` §1: Bearer token, ``username~actor`` ids, the canonical
``/v2/actors`` prefix (or the legacy ``/v2/acts``), 201 + bare array from run-sync-get-dataset-items, 408
``run-timeout-exceeded`` when a sync run passes 300 s, ``{"data": Run}`` from runs, polling with
``waitForFinish`` (≤ 60 s) and a 404 tolerated just after start (replica lag), dataset items paged with
``offset``/``limit`` and the ``X-Apify-Pagination-*`` headers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator

from upswing.core.http import (
    BudgetExhausted,
    ClientError,
    HttpClient,
    HttpError,
    MalformedResponse,
    RequestTimedOut,
)
from upswing.core.identifiers import normalize_linkedin_url
from upswing.source.connector import ConnectorConfig, Target

API = "apify"  # the per-API rate-limit key
TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "ABORTED", "TIMED-OUT"})
_REPLICA_LAG_S = 3.0  # how long a fresh run may answer 404 (apify-client does the same)


class ApifyRunFailed(HttpError):
    """The actor run ended in FAILED, ABORTED or TIMED-OUT."""


class ApifyRunTimeout(HttpError):
    """The synchronous run passed Apify's 300 s limit (HTTP 408); the run itself goes on server-side."""


class ApifyConfig(ConnectorConfig):
    token: SecretStr = Field(description="Apify API token (sent as a Bearer token)")
    base_url: str = Field(default="https://api.apify.com", description="API root; tests point it at the fake")
    path_form: Literal["actors", "acts"] = Field(
        default="actors", description="'actors' (canonical) or the legacy 'acts' path prefix")
    mode: Literal["sync", "async"] = Field(
        default="sync", description="sync: run-sync-get-dataset-items; async: start the run and poll it")
    batch_size: int = Field(default=25, ge=1, le=1000, description="Profiles per actor run")
    page_size: int = Field(default=500, ge=1, le=100_000, description="Dataset items per page (async mode)")
    run_timeout_s: int | None = Field(default=None, ge=1, description="Actor run timeout (the 'timeout' param)")
    memory_mb: int | None = Field(default=None, ge=128, description="Actor memory, a power of 2")
    wait_for_finish_s: int = Field(default=60, ge=0, le=60, description="Long-poll per status read (max 60)")
    poll_interval_s: float = Field(default=2.0, ge=0, description="Pause between status reads of a running run")
    max_wait_s: float = Field(default=1800.0, gt=0, description="Give up waiting for one run after this long")
    extra_input: dict[str, Any] = Field(default_factory=dict, description="Merged into every actor input")

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("memory_mb")
    @classmethod
    def _power_of_two(cls, value: int | None) -> int | None:
        if value is not None and value & (value - 1):
            raise ValueError("memory_mb must be a power of 2 (128, 256, 512, ...)")
        return value


@dataclass
class ApifyApi:
    http: HttpClient
    config: ApifyConfig

    # ---- URLs and calls

    def _url(self, path: str) -> str:
        base = self.config.base_url
        return (base if base.endswith("/v2") else f"{base}/v2") + path

    def _actor_path(self, actor_id: str) -> str:
        return f"/{self.config.path_form}/{actor_id.strip().replace('/', '~')}"

    @property
    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.config.token.get_secret_value()}"}

    def _run_params(self) -> dict[str, Any]:
        return {"timeout": self.config.run_timeout_s, "memory": self.config.memory_mb}

    def me(self) -> Mapping[str, Any]:
        return _data(self.http.request("GET", self._url("/users/me"), headers=self._headers, api=API).json())

    def actor(self, actor_id: str) -> Mapping[str, Any]:
        return _data(self.http.request("GET", self._url(self._actor_path(actor_id)), headers=self._headers,
                                       api=API).json())

    def run(self, actor_id: str, run_input: Mapping[str, Any]) -> list[Any]:
        """Run the actor the configured way and return all its dataset items.

        A sync run that passes 300 s (408) is started again as an async run and polled, because the 408
        does not say which run kept going.
        """
        if self.config.mode == "sync":
            try:
                return self.run_sync(actor_id, run_input)
            except ApifyRunTimeout:
                pass
        run = self.start(actor_id, run_input)
        run = self.wait(str(run["id"]))
        return [item for page in self.dataset_pages(str(run["defaultDatasetId"])) for item in page]

    def run_sync(self, actor_id: str, run_input: Mapping[str, Any]) -> list[Any]:
        url = self._url(self._actor_path(actor_id) + "/run-sync-get-dataset-items")
        try:
            response = self.http.request("POST", url, params={**self._run_params(), "format": "json"},
                                         json=dict(run_input), headers=self._headers, api=API)
        except ClientError as exc:
            if exc.status == 408:
                raise ApifyRunTimeout(f"{actor_id}: synchronous run passed 300 s (HTTP 408)", url=url) from exc
            raise
        return _array(response.json(), url)

    def start(self, actor_id: str, run_input: Mapping[str, Any]) -> Mapping[str, Any]:
        url = self._url(self._actor_path(actor_id) + "/runs")
        run = _data(self.http.request("POST", url, params=self._run_params(), json=dict(run_input),
                                      headers=self._headers, api=API).json())
        if not isinstance(run.get("id"), str):
            raise MalformedResponse(f"{actor_id}: the started run has no id", url=url)
        return run

    def wait(self, run_id: str) -> Mapping[str, Any]:
        """Poll the run until it ends; return it when SUCCEEDED, raise otherwise."""
        url = self._url(f"/actor-runs/{run_id}")
        started = self.http.clock()
        while True:
            try:
                run = _data(self.http.request("GET", url, params={"waitForFinish": self.config.wait_for_finish_s},
                                              headers=self._headers, api=API).json())
            except ClientError as exc:
                if exc.status != 404 or self.http.clock() - started > _REPLICA_LAG_S:
                    raise
                self.http.sleep(0.25)
                continue
            status = run.get("status")
            if status in TERMINAL_STATUSES:
                if status != "SUCCEEDED":
                    raise ApifyRunFailed(f"Apify run {run_id} ended {status}: {run.get('statusMessage') or ''}",
                                         url=url)
                if not isinstance(run.get("defaultDatasetId"), str):
                    raise MalformedResponse(f"Apify run {run_id} has no defaultDatasetId", url=url)
                return run
            if not isinstance(status, str):
                raise MalformedResponse(f"Apify run {run_id}: unexpected status {status!r}", url=url)
            if self.http.clock() - started > self.config.max_wait_s:
                raise RequestTimedOut(f"Apify run {run_id} still {status} after {self.config.max_wait_s:g} s",
                                      url=url)
            if self.config.poll_interval_s:
                self.http.sleep(self.config.poll_interval_s)

    def dataset_pages(self, dataset_id: str) -> Iterator[list[Any]]:
        """Every page of a dataset's items, paged with offset/limit until the total is reached."""
        url = self._url(f"/datasets/{dataset_id}/items")
        offset = 0
        while True:
            response = self.http.request("GET", url, params={"offset": offset, "limit": self.config.page_size,
                                                             "format": "json", "clean": True},
                                         headers=self._headers, api=API)
            page = _array(response.json(), url)
            yield page
            total = _int_header(response.headers.get("x-apify-pagination-total"))
            offset += len(page)
            if not page or (total is not None and offset >= total) or (total is None and
                                                                       len(page) < self.config.page_size):
                return


def _data(body: Any) -> Mapping[str, Any]:
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise MalformedResponse("Apify answered without the expected {\"data\": {...}} object")
    return data


def _array(body: Any, url: str) -> list[Any]:
    if not isinstance(body, list):
        raise MalformedResponse("Apify dataset items are not a JSON array", url=url)
    return body


def _int_header(value: str | None) -> int | None:
    return int(value) if value is not None and value.strip().isdigit() else None


# --------------------------------------------------------------------------------------------------
# Running many targets in budgeted batches
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileTarget:
    key: str
    url: str  # canonical https://www.linkedin.com/in/<public-id>
    public_id: str


@dataclass
class Batches:
    runs: list[tuple[list[ProfileTarget], list[Any]]]  # each batch's targets and the items its run returned
    spent: int = 0
    deferred: list[str] | None = None
    failure: HttpError | None = None


def profile_targets(targets: Sequence[Target]) -> tuple[list[ProfileTarget], list[str]]:
    """Targets whose value is a LinkedIn profile URL (or public id); the others are reported, not fetched."""
    found: list[ProfileTarget] = []
    errors: list[str] = []
    for target in targets:
        value = target.value.strip()
        normalized = normalize_linkedin_url(value if "/" in value else f"https://www.linkedin.com/in/{value}")
        if normalized is None:
            errors.append(f"{target.key}: not a LinkedIn profile URL ({value[:80]!r})")
            continue
        found.append(ProfileTarget(target.key, normalized[0], normalized[1]))
    return found, errors


def run_batches(api: ApifyApi, actor_id: str, targets: Sequence[ProfileTarget], *, batch_size: int, budget: str,
                make_input: Callable[[list[ProfileTarget]], dict[str, Any]]) -> Batches:
    """Run the actor over ``targets`` in batches, spending one budget unit per target before each run.

    Raises when the first batch cannot run (budget already spent, or an HTTP error): nothing was fetched.
    Later, a spent budget or an error stops the loop; the targets not done come back in ``deferred``.
    """
    outcome = Batches(runs=[])
    pending = list(targets)
    while pending:
        batch = pending[:batch_size]
        left = api.http.budget_left(budget)
        if left is not None:
            batch = batch[:left]
        try:
            api.http.spend(budget, max(1, len(batch)))  # none left: raises BudgetExhausted, spends nothing
            items = api.run(actor_id, {**api.config.extra_input, **make_input(batch)})
        except HttpError as exc:
            if not outcome.runs:
                raise
            outcome.deferred = [target.key for target in pending]
            outcome.failure = None if isinstance(exc, BudgetExhausted) else exc
            return outcome
        outcome.spent += len(batch)
        outcome.runs.append((batch, items))
        pending = pending[len(batch):]
    return outcome
