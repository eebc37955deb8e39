"""apify-linkedin against the fake Apify server: both path forms, sync and async, paging, every fault."""

from __future__ import annotations

from typing import Any

import pytest

from source.connectors.connector_support import TOKEN, demo_items
from upswing.core.http import (
    Blocked,
    BudgetExhausted,
    HttpClient,
    InMemoryBudgetStore,
    MalformedResponse,
    ResponseTooLarge,
    ServerError,
)
from upswing.fakes.apify import APIMAESTRO_PROFILE, DEV_FUSION_PROFILES, HARVEST_PROFILES, FakeApify
from upswing.fakes.server import Fault
from upswing.fakes.timing import FakeTime
from upswing.observation.apify import normalize_item
from upswing.source.connector import FetchRequest, ItemKind, Target
from upswing.source.connectors._apify import ApifyRunFailed
from upswing.source.connectors.apify_linkedin import ApifyLinkedInConfig, ApifyLinkedInConnector
from upswing.source.registry import get_connector

# The fakes listen on 127.0.0.1: allow-listed for the outbound guard, as a deployment allow-lists a host.
pytestmark = pytest.mark.usefixtures("allow_loopback")


def seed(apify: FakeApify, actor: str, file: str, count: int) -> list[Target]:
    items = demo_items(file)[:count]
    public_ids = apify.add_profiles(actor, items)
    # Leads carry their URL the way people type it: with tracking junk, http, no www, trailing slash.
    return [Target(key=f"lead-{n}", value=f"http://linkedin.com/in/{public_id}/?utm_source=share")
            for n, public_id in enumerate(public_ids)]


def config(apify: FakeApify, **overrides: Any) -> ApifyLinkedInConfig:
    return ApifyLinkedInConfig.model_validate({"token": TOKEN, "base_url": apify.url, **overrides})


def test_registered_under_its_slug() -> None:
    assert get_connector("apify-linkedin") is ApifyLinkedInConnector


@pytest.mark.parametrize("path_form", ["actors", "acts"])
def test_sync_runs_in_batches_and_matches_items_to_leads(apify: FakeApify, http: HttpClient, path_form: str) -> None:
    targets = seed(apify, HARVEST_PROFILES, "apify-harvestapi-2026-09-01.json", 25)
    result = ApifyLinkedInConnector(http).fetch(config(apify, path_form=path_form, batch_size=10), None,
                                                FetchRequest(targets))
    assert len(result.items) == 25 and result.errors == [] and result.failure is None
    assert {item.target_key for item in result.items} == {t.key for t in targets}
    assert all(item.kind is ItemKind.PROFILE for item in result.items)
    first = result.items[0]
    assert normalize_item(first.payload).linkedin_url == first.url
    runs = apify.requests_to("run-sync")
    assert [len(r.json()["queries"]) for r in runs] == [10, 10, 5]
    assert all(r.path.startswith(f"/v2/{path_form}/harvestapi~linkedin-profile-scraper/") for r in runs)
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" and "token" not in r.query for r in runs)
    assert result.usage == {"linkedin-profiles": 25}


def test_async_mode_polls_and_pages_through_the_dataset(http: HttpClient, fake_time: FakeTime) -> None:
    apify = FakeApify(token=TOKEN, polls_to_finish=3)
    with apify:
        targets = seed(apify, HARVEST_PROFILES, "apify-harvestapi-2026-09-01.json", 20)
        result = ApifyLinkedInConnector(http).fetch(
            config(apify, mode="async", batch_size=20, page_size=7, poll_interval_s=1.5), None,
            FetchRequest(targets))
    assert len(result.items) == 20
    assert len(apify.requests_to("start-run")) == 1
    assert len(apify.requests_to("get-run")) == 3
    assert all(r.arg("waitForFinish") == "60" for r in apify.requests_to("get-run"))
    pages = apify.requests_to("dataset-items")
    assert [(r.arg("offset"), r.arg("limit")) for r in pages] == [("0", "7"), ("7", "7"), ("14", "7")]
    assert fake_time.sleeps == [1.5, 1.5]  # between the polls of a running run


def test_dev_fusion_actor(apify: FakeApify, http: HttpClient) -> None:
    targets = seed(apify, DEV_FUSION_PROFILES, "apify-dev_fusion-2026-11-01.json", 6)
    result = ApifyLinkedInConnector(http).fetch(
        config(apify, actor="dev_fusion/Linkedin-Profile-Scraper"), None, FetchRequest(targets))
    assert {item.target_key for item in result.items} == {t.key for t in targets}
    assert len(apify.requests_to("run-sync")[0].json()["profileUrls"]) == 6


def test_apimaestro_actor_runs_once_per_profile(apify: FakeApify, http: HttpClient) -> None:
    targets = seed(apify, APIMAESTRO_PROFILE, "apify-apimaestro-2026-11-03.json", 3)
    result = ApifyLinkedInConnector(http).fetch(
        config(apify, actor="apimaestro/linkedin-profile-detail"), None, FetchRequest(targets))
    assert [item.target_key for item in result.items] == [t.key for t in targets]
    runs = apify.requests_to("run-sync")
    assert [set(r.json()) for r in runs] == [{"username"}] * 3


def test_unknown_actor_is_refused_in_the_config(apify: FakeApify) -> None:
    with pytest.raises(ValueError, match="unknown profile actor"):
        config(apify, actor="someone/else")


def test_missing_profiles_and_bad_urls_are_reported(apify: FakeApify, http: HttpClient) -> None:
    targets = [*seed(apify, HARVEST_PROFILES, "apify-harvestapi-2026-09-01.json", 2),
               Target("lead-x", "https://www.linkedin.com/in/nobody-here"),
               Target("lead-y", "https://example.com/not-linkedin")]
    result = ApifyLinkedInConnector(http).fetch(config(apify), None, FetchRequest(targets))
    assert len(result.items) == 2
    assert any(e.startswith("lead-x: no profile returned") for e in result.errors)
    assert any(e.startswith("lead-y: not a LinkedIn profile URL") for e in result.errors)
    assert result.usage == {"linkedin-profiles": 3}  # the bad URL was never sent


def test_sync_timeout_408_falls_back_to_an_async_run(apify: FakeApify, http: HttpClient) -> None:
    targets = seed(apify, HARVEST_PROFILES, "apify-harvestapi-2026-09-01.json", 4)
    apify.actor(HARVEST_PROFILES).run_seconds = 400
    result = ApifyLinkedInConnector(http).fetch(config(apify), None, FetchRequest(targets))
    assert len(result.items) == 4
    assert len(apify.requests_to("run-sync")) == 1 and len(apify.requests_to("start-run")) == 1


@pytest.mark.parametrize(("state", "status", "kind"), [
    ("no-credit", 402, "not-enough-usage-to-run-paid-actor"),
    ("not-rented", 403, "actor-is-not-rented"),
])
def test_no_credit_or_not_rented_blocks(apify: FakeApify, http: HttpClient, state: str, status: int,
                                        kind: str) -> None:
    targets = seed(apify, HARVEST_PROFILES, "apify-harvestapi-2026-09-01.json", 3)
    apify.set_actor_state(HARVEST_PROFILES, state)
    with pytest.raises(Blocked) as caught:
        ApifyLinkedInConnector(http).fetch(config(apify), None, FetchRequest(targets))
    assert caught.value.status == status and caught.value.blocks_source and kind in str(caught.value)
    assert len(apify.requests_to("run-sync")) == 1  # a refusal is not retried


def test_check_reports_health_and_bad_tokens(apify: FakeApify, http: HttpClient) -> None:
    connector = ApifyLinkedInConnector(http)
    assert connector.check(config(apify)).ok
    bad = connector.check(config(apify, token="wrong"))
    assert not bad.ok and bad.blocked and "invalid-token" in bad.detail


def test_rate_limit_is_retried_after_the_wait(apify: FakeApify, http: HttpClient, fake_time: FakeTime) -> None:
    targets = seed(apify, HARVEST_PROFILES, "apify-harvestapi-2026-09-01.json", 3)
    apify.inject("run-sync", Fault.rate_limited(
        retry_after="4", body={"error": {"type": "rate-limit-exceeded", "message": "slow down"}}), times=2)
    result = ApifyLinkedInConnector(http).fetch(config(apify), None, FetchRequest(targets))
    assert len(result.items) == 3
    assert fake_time.sleeps == [4.0, 4.0]


def test_server_errors_are_retried_then_items_arrive(apify: FakeApify, http: HttpClient) -> None:
    targets = seed(apify, HARVEST_PROFILES, "apify-harvestapi-2026-09-01.json", 3)
    apify.inject("run-sync", Fault.server_error(502), times=2)
    result = ApifyLinkedInConnector(http).fetch(config(apify), None, FetchRequest(targets))
    assert len(result.items) == 3 and len(apify.requests_to("run-sync")) == 3


def test_budget_limits_profiles_and_defers_the_rest(apify: FakeApify, fake_time: FakeTime) -> None:
    targets = seed(apify, HARVEST_PROFILES, "apify-harvestapi-2026-09-01.json", 30)
    budgets = InMemoryBudgetStore({"linkedin-profiles": 12})
    with HttpClient(clock=fake_time.clock, sleep=fake_time.sleep, budgets=budgets) as http:
        connector = ApifyLinkedInConnector(http)
        result = connector.fetch(config(apify, batch_size=10), None, FetchRequest(targets))
        assert len(result.items) == 12 and result.failure is None
        assert list(result.deferred) == [t.key for t in targets[12:]]
        assert budgets.used("linkedin-profiles") == 12
        runs_before = len(apify.requests)
        with pytest.raises(BudgetExhausted):
            connector.fetch(config(apify, batch_size=10), None, FetchRequest(targets[12:]))
    assert len(apify.requests) == runs_before  # nothing was sent once the budget was spent


def test_failure_after_a_good_batch_keeps_its_items(apify: FakeApify, http: HttpClient) -> None:
    targets = seed(apify, HARVEST_PROFILES, "apify-harvestapi-2026-09-01.json", 25)
    connector = ApifyLinkedInConnector(http)
    apify.inject("run-sync", Fault.server_error(500), times=10, after=1)
    result = connector.fetch(config(apify, batch_size=10), None, FetchRequest(targets))
    assert len(result.items) == 10
    assert isinstance(result.failure, ServerError)
    assert list(result.deferred) == [t.key for t in targets[10:]]


def test_first_batch_failure_raises(apify: FakeApify, http: HttpClient) -> None:
    targets = seed(apify, HARVEST_PROFILES, "apify-harvestapi-2026-09-01.json", 3)
    apify.inject("run-sync", Fault.server_error(500), times=10)
    with pytest.raises(ServerError):
        ApifyLinkedInConnector(http).fetch(config(apify), None, FetchRequest(targets))


@pytest.mark.parametrize("fault", [Fault.malformed(), Fault.unexpected({"data": {"items": []}})])
def test_malformed_or_unexpected_bodies_raise_malformed_response(apify: FakeApify, http: HttpClient,
                                                                 fault: Fault) -> None:
    targets = seed(apify, HARVEST_PROFILES, "apify-harvestapi-2026-09-01.json", 2)
    apify.inject("run-sync", fault)
    with pytest.raises(MalformedResponse):
        ApifyLinkedInConnector(http).fetch(config(apify), None, FetchRequest(targets))


def test_unexpected_items_are_reported_and_the_good_ones_kept(apify: FakeApify, http: HttpClient) -> None:
    targets = seed(apify, HARVEST_PROFILES, "apify-harvestapi-2026-09-01.json", 2)
    good = [apify.actor(HARVEST_PROFILES).items[t.value.split("/in/")[1].split("/")[0]][0] for t in targets]
    apify.inject("run-sync", Fault.unexpected([good[0], {"what": "is this"}, "text", good[1]]))
    result = ApifyLinkedInConnector(http).fetch(config(apify), None, FetchRequest(targets))
    assert [item.target_key for item in result.items] == ["lead-0", "lead-1"]
    assert sum("unexpected shape" in e for e in result.errors) == 1
    assert sum("not a JSON object" in e for e in result.errors) == 1


def test_oversized_response_is_aborted(apify: FakeApify, fake_time: FakeTime) -> None:
    targets = seed(apify, HARVEST_PROFILES, "apify-harvestapi-2026-09-01.json", 2)
    apify.inject("run-sync", Fault.oversized(3_000_000, declare_length=False))
    with HttpClient(clock=fake_time.clock, sleep=fake_time.sleep, max_bytes=1_000_000) as http, \
            pytest.raises(ResponseTooLarge):
        ApifyLinkedInConnector(http).fetch(config(apify), None, FetchRequest(targets))


def test_fresh_run_404_is_tolerated(apify: FakeApify, http: HttpClient) -> None:
    targets = seed(apify, HARVEST_PROFILES, "apify-harvestapi-2026-09-01.json", 2)
    apify.inject("get-run", Fault.error(404, {"error": {"type": "record-not-found", "message": "lag"}}))
    result = ApifyLinkedInConnector(http).fetch(config(apify, mode="async"), None, FetchRequest(targets))
    assert len(result.items) == 2 and len(apify.requests_to("get-run")) == 2


def test_failed_run_raises(apify: FakeApify, http: HttpClient) -> None:
    targets = seed(apify, HARVEST_PROFILES, "apify-harvestapi-2026-09-01.json", 2)
    apify.actor(HARVEST_PROFILES).final_status = "FAILED"
    with pytest.raises(ApifyRunFailed, match="FAILED"):
        ApifyLinkedInConnector(http).fetch(config(apify, mode="async"), None, FetchRequest(targets))
