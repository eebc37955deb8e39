"""A protocol-faithful fake of the Apify API v2 (``shared/reference/external-apis.md`` §1).

Serves both path forms (``/v2/acts/...`` legacy and ``/v2/actors/...`` canonical), actor ids as
``username~actor-name`` (``%7E`` accepted), token auth by ``Authorization: Bearer`` or ``?token=``, and:

* ``POST /v2/{acts|actors}/{id}/run-sync-get-dataset-items`` → 201 with a bare JSON array and the
  ``X-Apify-Pagination-*`` headers (``offset``/``limit``/``maxItems`` honoured); 408 ``run-timeout-exceeded``
  when the actor is set to run longer than the sync limit;
* ``POST /v2/{acts|actors}/{id}/runs`` → 201 ``{"data": Run}``; ``GET /v2/actor-runs/{runId}`` → the run,
  which reaches its final status after ``polls_to_finish`` status reads;
* ``GET /v2/datasets/{id}/items`` with ``offset``/``limit``/``desc`` and the pagination headers;
* ``GET /v2/users/me`` and ``GET /v2/{acts|actors}/{id}`` for health checks;
* 402 ``not-enough-usage-to-run-paid-actor`` and 403 ``actor-is-not-rented`` per actor; every error in the
  ``{"error": {"type", "message"}}`` envelope.

Actors and what they read from their input (the fake answers with the items the test seeded, in the
order the input asked for them; a profile it does not know gives no item):

* ``harvestapi~linkedin-profile-scraper``: ``queries``, ``urls``, ``publicIdentifiers``, ``profileIds``;
* ``dev_fusion~Linkedin-Profile-Scraper``: ``profileUrls``;
* ``apimaestro~linkedin-profile-detail``: ``username`` (one profile per run);
* ``harvestapi~linkedin-profile-posts``: ``targetUrls`` (also ``profileUrls``/``urls``) and ``maxPosts``.
"""

from __future__ import annotations

import copy
import itertools
import secrets
import string
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from upswing.core.identifiers import normalize_linkedin_url
from upswing.fakes.server import FakeServer, Reply, Request
from upswing.observation.apify import UnknownShapeError, normalize_item

__all__ = [
    "APIMAESTRO_PROFILE",
    "DEV_FUSION_PROFILES",
    "HARVEST_POSTS",
    "HARVEST_PROFILES",
    "FakeApify",
    "apify_error",
]

HARVEST_PROFILES = "harvestapi~linkedin-profile-scraper"
DEV_FUSION_PROFILES = "dev_fusion~Linkedin-Profile-Scraper"
APIMAESTRO_PROFILE = "apimaestro~linkedin-profile-detail"
HARVEST_POSTS = "harvestapi~linkedin-profile-posts"

_NO_LIMIT = 999_999_999_999  # what the API reports as the limit when none was given
_SYNC_LIMIT_S = 300
_ID_ALPHABET = string.ascii_letters + string.digits


def apify_error(status: int, kind: str, message: str) -> Reply:
    return Reply.json({"error": {"type": kind, "message": message}}, status)


def _new_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(17))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _canonical_actor(actor_id: str) -> str:
    return actor_id.replace("/", "~").casefold()


def _public_id(value: str) -> str:
    """A profile URL or a bare public id → the lower-case public id."""
    normalized = normalize_linkedin_url(value)
    return normalized[1] if normalized else value.strip().strip("/").casefold()


@dataclass
class FakeActor:
    actor_id: str  # "username~name" as given
    kind: str  # "profiles" | "posts"
    input_fields: tuple[str, ...]
    state: str = "ok"  # "ok" | "not-rented" | "no-credit"
    run_seconds: float = 5.0  # simulated run time; over 300 s the sync endpoint answers 408
    final_status: str = "SUCCEEDED"
    items: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # public id → items
    id: str = field(default_factory=_new_id)


@dataclass
class FakeRun:
    id: str
    actor: FakeActor
    dataset_id: str
    items: list[dict[str, Any]]
    options: dict[str, Any]
    polls_left: int
    status: str = "READY"
    started_at: str = field(default_factory=_now)
    finished_at: str | None = None

    def as_data(self, user_id: str) -> dict[str, Any]:
        return {
            "id": self.id, "actId": self.actor.id, "userId": user_id, "actorTaskId": None,
            "startedAt": self.started_at, "finishedAt": self.finished_at, "status": self.status,
            "statusMessage": None if self.status != "SUCCEEDED" else "Finished!",
            "isStatusMessageTerminal": self.finished_at is not None,
            "meta": {"origin": "API", "userAgent": "fake"},
            "stats": {"inputBodyLen": 0, "restartCount": 0, "resurrectCount": 0, "computeUnits": 0.01},
            "options": self.options, "buildId": "fakeBuild0000000", "buildNumber": "0.0.1",
            "exitCode": 0 if self.status == "SUCCEEDED" else None,
            "defaultKeyValueStoreId": f"kvs{self.id}", "defaultDatasetId": self.dataset_id,
            "defaultRequestQueueId": f"rq{self.id}", "containerUrl": f"https://{self.id}.runs.apify.net",
            "usageTotalUsd": 0.004 * len(self.items),
        }


class FakeApify(FakeServer):
    name = "fake-apify"

    def __init__(self, *, token: str = "apify_api_fake_token", polls_to_finish: int = 1) -> None:  # noqa: S107
        super().__init__()
        self.token = token
        self.user_id = "fakeUser00000001"
        self.polls_to_finish = polls_to_finish
        self.actors: dict[str, FakeActor] = {}
        self.runs: dict[str, FakeRun] = {}
        self.datasets: dict[str, list[dict[str, Any]]] = {}
        self._state_lock = threading.Lock()
        self._run_count = itertools.count(1)
        for actor_id, kind, fields in (
            (HARVEST_PROFILES, "profiles", ("queries", "urls", "publicIdentifiers", "profileIds")),
            (DEV_FUSION_PROFILES, "profiles", ("profileUrls",)),
            (APIMAESTRO_PROFILE, "profiles", ("username",)),
            (HARVEST_POSTS, "posts", ("targetUrls", "profileUrls", "urls")),
        ):
            self.actors[_canonical_actor(actor_id)] = FakeActor(actor_id, kind, fields)
        actor = r"^/v2/(?:acts|actors)/(?P<actor>[^/]+)"
        self.add_route("POST", actor + r"/run-sync-get-dataset-items$", "run-sync", self._run_sync)
        self.add_route("GET", actor + r"/run-sync-get-dataset-items$", "run-sync", self._run_sync)
        self.add_route("POST", actor + r"/runs$", "start-run", self._start_run)
        self.add_route("GET", actor + r"$", "get-actor", self._get_actor)
        self.add_route("GET", r"^/v2/actor-runs/(?P<run>[^/]+)$", "get-run", self._get_run)
        self.add_route("GET", r"^/v2/datasets/(?P<dataset>[^/]+)/items$", "dataset-items", self._dataset_items)
        self.add_route("GET", r"^/v2/users/me$", "users-me", self._users_me)

    # ---- seeding and settings (for tests)

    def actor(self, actor_id: str) -> FakeActor:
        try:
            return self.actors[_canonical_actor(actor_id)]
        except KeyError:
            raise KeyError(f"the fake has no actor {actor_id!r}") from None

    def add_profiles(self, actor_id: str, items: Iterable[Mapping[str, Any]]) -> list[str]:
        """Seed profile items (in the actor's own output shape); returns their public ids."""
        actor = self.actor(actor_id)
        added = []
        for item in items:
            try:
                public_id = normalize_item(item).public_identifier
            except UnknownShapeError:
                public_id = None
            if not public_id:
                raise ValueError("a seeded profile item needs a recognisable public identifier")
            actor.items[public_id.casefold()] = [copy.deepcopy(dict(item))]
            added.append(public_id.casefold())
        return added

    def add_posts(self, posts: Iterable[Mapping[str, Any]], actor_id: str = HARVEST_POSTS) -> None:
        """Seed post items; they are found by ``authorPublicIdentifier`` (or ``author.publicIdentifier``)."""
        actor = self.actor(actor_id)
        for post in posts:
            author = post.get("author") if isinstance(post.get("author"), Mapping) else {}
            public_id = post.get("authorPublicIdentifier") or (author or {}).get("publicIdentifier")
            if not isinstance(public_id, str):
                raise ValueError("a seeded post needs authorPublicIdentifier")
            actor.items.setdefault(public_id.casefold(), []).append(copy.deepcopy(dict(post)))

    def set_actor_state(self, actor_id: str, state: str) -> None:
        if state not in ("ok", "not-rented", "no-credit"):
            raise ValueError("state must be ok, not-rented or no-credit")
        self.actor(actor_id).state = state

    # ---- handlers

    def _authorized(self, request: Request) -> Reply | None:
        header = request.headers.get("authorization", "")
        token = header[7:] if header.lower().startswith("bearer ") else request.arg("token")
        if not token:
            return apify_error(401, "token-not-provided", "Authentication token was not provided")
        if token != self.token:
            return apify_error(401, "invalid-token", "Authentication token is not valid")
        return None

    def _find_actor(self, request: Request) -> FakeActor | Reply:
        denied = self._authorized(request)
        if denied is not None:
            return denied
        actor = self.actors.get(_canonical_actor(request.params["actor"]))
        if actor is None:
            return apify_error(404, "record-not-found", "Actor was not found")
        if actor.state == "not-rented":
            return apify_error(403, "actor-is-not-rented",
                               "You must rent a paid Actor in order to run it.")
        if actor.state == "no-credit":
            return apify_error(402, "not-enough-usage-to-run-paid-actor",
                               "By launching this job you will exceed the memory limit or your usage limit.")
        return actor

    def _parse_input(self, request: Request) -> dict[str, Any] | Reply:
        if request.method == "GET" or not request.body:
            return {}
        try:
            data = request.json()
        except ValueError:
            return apify_error(400, "invalid-input", "Input is not valid JSON")
        if not isinstance(data, dict):
            return apify_error(400, "invalid-input", "Input must be a JSON object")
        return data

    def _produce(self, actor: FakeActor, run_input: Mapping[str, Any]) -> list[dict[str, Any]]:
        wanted: list[str] = []
        for field_name in actor.input_fields:
            value = run_input.get(field_name)
            values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
            wanted.extend(_public_id(v) for v in values if isinstance(v, str) and v.strip())
        max_posts = run_input.get("maxPosts")
        items: list[dict[str, Any]] = []
        for public_id in dict.fromkeys(wanted):
            found = actor.items.get(public_id, [])
            if actor.kind == "posts":
                found = sorted(found, key=_post_time, reverse=True)
                if isinstance(max_posts, int) and max_posts >= 0:
                    found = found[:max_posts]
            items.extend(copy.deepcopy(found))
        return items

    def _create_run(self, actor: FakeActor, request: Request, items: list[dict[str, Any]], *,
                    finished: bool) -> FakeRun:
        max_items = _int_arg(request, "maxItems")
        if max_items is not None:
            items = items[:max_items]
        options = {"build": request.arg("build", "latest"), "timeoutSecs": _int_arg(request, "timeout") or 3600,
                   "memoryMbytes": _int_arg(request, "memory") or 1024, "diskMbytes": 2048}
        run = FakeRun(_new_id(), actor, _new_id(), items, options, self.polls_to_finish)
        with self._state_lock:
            next(self._run_count)
            self.runs[run.id] = run
            self.datasets[run.dataset_id] = []
            if finished or run.polls_left <= 0:
                self._finish(run)
            else:
                run.status = "RUNNING"
        return run

    def _finish(self, run: FakeRun) -> None:
        run.status = run.actor.final_status
        run.finished_at = _now()
        if run.status == "SUCCEEDED":
            self.datasets[run.dataset_id] = run.items

    def _run_sync(self, request: Request) -> Reply:
        actor = self._find_actor(request)
        if isinstance(actor, Reply):
            return actor
        run_input = self._parse_input(request)
        if isinstance(run_input, Reply):
            return run_input
        if request.arg("format", "json") != "json":
            return apify_error(400, "invalid-request", "The fake serves only format=json")
        run = self._create_run(actor, request, self._produce(actor, run_input), finished=False)
        if actor.run_seconds > _SYNC_LIMIT_S:
            # The run keeps going server-side; the caller only learns that it took too long.
            return apify_error(408, "run-timeout-exceeded",
                               f"Actor run exceeded the timeout of {_SYNC_LIMIT_S} seconds for this API endpoint")
        with self._state_lock:
            self._finish(run)
        if run.status != "SUCCEEDED":
            return apify_error(400, "run-failed", f"Actor run did not succeed (run ID: {run.id}, status: {run.status})")
        return self._items_reply(self.datasets[run.dataset_id], request, status=201)

    def _start_run(self, request: Request) -> Reply:
        actor = self._find_actor(request)
        if isinstance(actor, Reply):
            return actor
        run_input = self._parse_input(request)
        if isinstance(run_input, Reply):
            return run_input
        run = self._create_run(actor, request, self._produce(actor, run_input), finished=False)
        return Reply.json({"data": run.as_data(self.user_id)}, 201, self._rate_headers())

    def _get_run(self, request: Request) -> Reply:
        denied = self._authorized(request)
        if denied is not None:
            return denied
        with self._state_lock:
            run = self.runs.get(request.params["run"])
            if run is None:
                return apify_error(404, "record-not-found", "Actor run was not found")
            if run.finished_at is None:
                run.polls_left -= 1
                if run.polls_left <= 0:
                    self._finish(run)
            data = run.as_data(self.user_id)
        return Reply.json({"data": data}, 200, self._rate_headers())

    def _dataset_items(self, request: Request) -> Reply:
        denied = self._authorized(request)
        if denied is not None:
            return denied
        with self._state_lock:
            items = self.datasets.get(request.params["dataset"])
        if items is None:
            return apify_error(404, "record-not-found", "Dataset was not found")
        if request.arg("format", "json") != "json":
            return apify_error(400, "invalid-request", "The fake serves only format=json")
        return self._items_reply(items, request, status=200)

    def _items_reply(self, items: list[dict[str, Any]], request: Request, *, status: int) -> Reply:
        offset = _int_arg(request, "offset") or 0
        limit = _int_arg(request, "limit")
        ordered = list(reversed(items)) if request.arg("desc") in ("1", "true") else items
        page = ordered[offset: offset + limit if limit is not None else None]
        headers = {
            "X-Apify-Pagination-Offset": str(offset),
            "X-Apify-Pagination-Limit": str(limit if limit is not None else _NO_LIMIT),
            "X-Apify-Pagination-Count": str(len(page)),
            "X-Apify-Pagination-Total": str(len(items)),
            "X-Apify-Pagination-Desc": "true" if request.arg("desc") in ("1", "true") else "false",
            **self._rate_headers(),
        }
        return Reply.json(page, status, headers)

    def _get_actor(self, request: Request) -> Reply:
        actor = self._find_actor(request)
        if isinstance(actor, Reply):
            return actor
        username, _, name = actor.actor_id.partition("~")
        return Reply.json({"data": {"id": actor.id, "username": username, "name": name, "isPublic": True}})

    def _users_me(self, request: Request) -> Reply:
        denied = self._authorized(request)
        if denied is not None:
            return denied
        return Reply.json({"data": {"id": self.user_id, "username": "fake-user",
                                    "plan": {"id": "STARTER", "maxMonthlyUsageUsd": 49}}})

    @staticmethod
    def _rate_headers() -> dict[str, str]:
        return {"X-RateLimit-Limit": "60"}

    @property
    def run_count(self) -> int:
        with self._state_lock:
            return len(self.runs)


def _int_arg(request: Request, name: str) -> int | None:
    value = request.arg(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _post_time(post: Mapping[str, Any]) -> float:
    posted = post.get("postedAt")
    if isinstance(posted, Mapping):
        stamp = posted.get("timestamp")
        if isinstance(stamp, int | float):
            return float(stamp) / (1000.0 if stamp > 1e11 else 1.0)
        date_text = posted.get("date")
        if isinstance(date_text, str):
            try:
                return datetime.fromisoformat(date_text.replace("Z", "+00:00")).timestamp()
            except ValueError:
                return 0.0
    return 0.0
