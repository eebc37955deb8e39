"""The fake Apify server speaks the documented protocol (reference §1), checked with a plain HTTP client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from upswing.fakes.apify import DEV_FUSION_PROFILES, HARVEST_PROFILES, FakeApify
from upswing.fakes.server import Fault

TOKEN = "apify_api_fake_token"


def profile(public_id: str) -> dict[str, Any]:
    return {"publicIdentifier": public_id, "linkedinUrl": f"https://www.linkedin.com/in/{public_id}",
            "firstName": "A", "lastName": "B", "headline": "x", "location": {"linkedinText": "Ohio"},
            "experience": [], "currentPosition": [], "openToWork": False}


@pytest.fixture
def served() -> Iterator[tuple[FakeApify, httpx.Client]]:
    fake = FakeApify(token=TOKEN)
    fake.add_profiles(HARVEST_PROFILES, [profile(f"p{n}") for n in range(5)])
    with fake as url, httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        yield fake, client


@pytest.mark.parametrize("prefix", ["acts", "actors"])
@pytest.mark.parametrize("actor", ["harvestapi~linkedin-profile-scraper", "harvestapi%7Elinkedin-profile-scraper"])
def test_sync_run_on_both_prefixes(served: tuple[FakeApify, httpx.Client], prefix: str, actor: str) -> None:
    _fake, client = served
    response = client.post(f"/v2/{prefix}/{actor}/run-sync-get-dataset-items", params={"offset": 1, "limit": 2},
                           json={"queries": ["p0", "https://www.linkedin.com/in/p1", "p2", "unknown"]})
    assert response.status_code == 201
    assert [item["publicIdentifier"] for item in response.json()] == ["p1", "p2"]
    assert response.headers["x-apify-pagination-total"] == "3"
    assert response.headers["x-apify-pagination-offset"] == "1"
    assert response.headers["x-apify-pagination-count"] == "2"


def test_token_in_query_or_missing(served: tuple[FakeApify, httpx.Client]) -> None:
    fake, _client = served
    with httpx.Client(base_url=fake.url) as anonymous:
        assert anonymous.get("/v2/users/me", params={"token": TOKEN}).status_code == 200
        missing = anonymous.get("/v2/users/me")
        assert missing.status_code == 401 and missing.json()["error"]["type"] == "token-not-provided"
        wrong = anonymous.get("/v2/users/me", headers={"Authorization": "Bearer nope"})
        assert wrong.json()["error"]["type"] == "invalid-token"


def test_async_run_lifecycle_and_dataset_paging(served: tuple[FakeApify, httpx.Client]) -> None:
    fake, client = served
    fake.polls_to_finish = 2
    started = client.post("/v2/acts/harvestapi~linkedin-profile-scraper/runs",
                          json={"queries": [f"p{n}" for n in range(5)]})
    assert started.status_code == 201
    run = started.json()["data"]
    assert run["status"] == "RUNNING" and {"id", "actId", "defaultDatasetId", "startedAt"} <= run.keys()
    assert client.get(f"/v2/actor-runs/{run['id']}").json()["data"]["status"] == "RUNNING"
    done = client.get(f"/v2/actor-runs/{run['id']}", params={"waitForFinish": 60}).json()["data"]
    assert done["status"] == "SUCCEEDED" and done["finishedAt"]
    first = client.get(f"/v2/datasets/{done['defaultDatasetId']}/items", params={"limit": 2})
    rest = client.get(f"/v2/datasets/{done['defaultDatasetId']}/items", params={"offset": 2, "limit": 10})
    assert len(first.json()) == 2 and len(rest.json()) == 3
    assert rest.headers["x-apify-pagination-total"] == "5"
    no_limit = client.get(f"/v2/datasets/{done['defaultDatasetId']}/items")
    assert no_limit.headers["x-apify-pagination-limit"] == "999999999999"


def test_errors_use_the_envelope(served: tuple[FakeApify, httpx.Client]) -> None:
    fake, client = served
    fake.set_actor_state(DEV_FUSION_PROFILES, "not-rented")
    refused = client.post("/v2/actors/dev_fusion~Linkedin-Profile-Scraper/run-sync-get-dataset-items", json={})
    assert refused.status_code == 403 and refused.json()["error"]["type"] == "actor-is-not-rented"
    missing = client.post("/v2/actors/nobody~nothing/runs", json={})
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "record-not-found"
    fake.actor(HARVEST_PROFILES).run_seconds = 301
    slow = client.post("/v2/actors/harvestapi~linkedin-profile-scraper/run-sync-get-dataset-items", json={})
    assert slow.status_code == 408 and slow.json()["error"]["type"] == "run-timeout-exceeded"


def test_faults_are_per_route_and_counted(served: tuple[FakeApify, httpx.Client]) -> None:
    fake, client = served
    fake.inject("users-me", Fault.rate_limited(retry_after="3"), times=2)
    answers = [client.get("/v2/users/me") for _ in range(3)]
    assert [a.status_code for a in answers] == [429, 429, 200]
    assert answers[0].headers["retry-after"] == "3"
    assert len(fake.requests_to("users-me")) == 3
    logged = fake.requests_to("users-me")[0]
    assert logged.method == "GET" and logged.headers["authorization"] == f"Bearer {TOKEN}"
