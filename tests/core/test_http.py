"""The shared HTTP layer against loopback fakes: retries, limits, budgets, breaker, robots, caching."""

from __future__ import annotations

import random
import socket
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from upswing import __version__
from upswing.core.http import (
    Blocked,
    BreakerPolicy,
    BreakerState,
    BudgetExhausted,
    CircuitOpen,
    ClientError,
    Disallowed,
    HttpClient,
    InMemoryBudgetStore,
    MalformedResponse,
    NoHealthyProxy,
    OutboundPolicy,
    ProxyPool,
    RateLimit,
    RateLimited,
    RequestTimedOut,
    ResponseTooLarge,
    RetryPolicy,
    ServerError,
    TransportFailed,
    Validators,
    parse_retry_after,
)
from upswing.fakes.proxy import FakeProxy
from upswing.fakes.server import Fault
from upswing.fakes.timing import FakeTime
from upswing.fakes.web import FakeWeb

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
LOOPBACK = OutboundPolicy.create(["127.0.0.1"])


@pytest.fixture
def web() -> Iterator[FakeWeb]:
    fake = FakeWeb()
    fake.start()
    fake.add_page("/data.json", '{"ok": true}', content_type="application/json")
    yield fake
    fake.stop()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def make_client(fake_time: FakeTime, **kwargs: object) -> HttpClient:
    options: dict[str, object] = {"clock": fake_time.clock, "sleep": fake_time.sleep, "wall_clock": lambda: NOW,
                                  "rng": random.Random(7), "page_limit": None,
                                  "outbound": LOOPBACK}  # the fakes listen on 127.0.0.1
    options.update(kwargs)
    return HttpClient(**options)  # type: ignore[arg-type]


# ---- retries


def test_server_errors_are_retried_with_growing_jittered_backoff(web: FakeWeb, fake_time: FakeTime) -> None:
    web.inject("/data.json", Fault.server_error(503), times=3)
    with make_client(fake_time) as http:
        assert http.get_json(f"{web.url}/data.json") == {"ok": True}
    assert len(web.requests_to("/data.json")) == 4
    first, second, third = fake_time.sleeps
    assert 0.5 <= first <= 1.0 and 1.0 <= second <= 2.0 and 2.0 <= third <= 4.0


def test_retries_give_up_with_server_error(web: FakeWeb, fake_time: FakeTime) -> None:
    web.inject("/data.json", Fault.server_error(502), times=10)
    with make_client(fake_time, retry=RetryPolicy(max_retries=2)) as http, pytest.raises(ServerError) as caught:
        http.get_json(f"{web.url}/data.json")
    assert caught.value.status == 502
    assert len(web.requests_to("/data.json")) == 3


def test_retry_after_seconds_is_honoured(web: FakeWeb, fake_time: FakeTime) -> None:
    web.inject("/data.json", Fault.rate_limited(retry_after="7"), times=1)
    with make_client(fake_time) as http:
        assert http.get_json(f"{web.url}/data.json") == {"ok": True}
    assert fake_time.sleeps == [7.0]


def test_retry_after_http_date_is_honoured(web: FakeWeb, fake_time: FakeTime) -> None:
    when = (NOW + timedelta(seconds=42)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    web.inject("/data.json", Fault.rate_limited(retry_after=when), times=1)
    with make_client(fake_time) as http:
        http.get_json(f"{web.url}/data.json")
    assert fake_time.sleeps == [42.0]


def test_retry_after_over_the_cap_gives_up_at_once(web: FakeWeb, fake_time: FakeTime) -> None:
    web.inject("/data.json", Fault.rate_limited(retry_after="3600"), times=5)
    with make_client(fake_time) as http, pytest.raises(RateLimited) as caught:
        http.get_json(f"{web.url}/data.json")
    assert caught.value.retry_after == 3600.0
    assert fake_time.sleeps == []
    assert len(web.requests_to("/data.json")) == 1


def test_429_without_retry_after_backs_off_then_raises(web: FakeWeb, fake_time: FakeTime) -> None:
    web.inject("/data.json", Fault.rate_limited(retry_after=None), times=5)
    with make_client(fake_time, retry=RetryPolicy(max_retries=2)) as http, pytest.raises(RateLimited):
        http.get_json(f"{web.url}/data.json")
    assert len(fake_time.sleeps) == 2 and all(delay > 0 for delay in fake_time.sleeps)


def test_dropped_connections_are_retried(web: FakeWeb, fake_time: FakeTime) -> None:
    web.inject("/data.json", Fault.disconnect(), times=2)
    with make_client(fake_time) as http:
        assert http.get_json(f"{web.url}/data.json") == {"ok": True}
    assert len(web.requests_to("/data.json")) == 3


def test_slow_responses_time_out_and_are_retried(web: FakeWeb, fake_time: FakeTime) -> None:
    web.inject("/data.json", Fault.slow(1.0), times=1)
    with make_client(fake_time, timeout_s=0.2) as http:
        assert http.get_json(f"{web.url}/data.json") == {"ok": True}
    assert len(fake_time.sleeps) == 1


def test_always_slow_ends_with_request_timed_out(web: FakeWeb, fake_time: FakeTime) -> None:
    web.inject("/data.json", Fault.slow(1.0), times=5)
    with make_client(fake_time, timeout_s=0.15, retry=RetryPolicy(max_retries=1)) as http, \
            pytest.raises(RequestTimedOut):
        http.get_json(f"{web.url}/data.json")


def test_connection_refused_is_a_transport_failure(fake_time: FakeTime) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again before the request: nothing listens there
    with make_client(fake_time, retry=RetryPolicy(max_retries=1)) as http, pytest.raises(TransportFailed):
        http.get_json(f"http://127.0.0.1:{port}/x")


# ---- errors that are not retried


@pytest.mark.parametrize("status", [401, 402, 403])
def test_refusals_raise_blocked_without_retry(web: FakeWeb, fake_time: FakeTime, status: int) -> None:
    web.inject("/data.json", Fault.error(status, {"error": {"type": "nope", "message": "no credit"}}), times=5)
    with make_client(fake_time) as http, pytest.raises(Blocked) as caught:
        http.get_json(f"{web.url}/data.json?token=secret-token")
    assert caught.value.status == status
    assert caught.value.blocks_source
    assert "nope: no credit" in str(caught.value)
    assert "secret-token" not in str(caught.value)
    assert len(web.requests_to("/data.json")) == 1


def test_not_found_is_a_client_error(web: FakeWeb, fake_time: FakeTime) -> None:
    with make_client(fake_time) as http, pytest.raises(ClientError) as caught:
        http.get_json(f"{web.url}/missing.json")
    assert caught.value.status == 404 and not caught.value.blocks_source


def test_malformed_json_raises_malformed_response(web: FakeWeb, fake_time: FakeTime) -> None:
    web.inject("/data.json", Fault.malformed())
    with make_client(fake_time) as http, pytest.raises(MalformedResponse):
        http.get_json(f"{web.url}/data.json")


@pytest.mark.parametrize("declare_length", [True, False])
def test_oversized_bodies_are_aborted(web: FakeWeb, fake_time: FakeTime, declare_length: bool) -> None:
    web.inject("/data.json", Fault.oversized(2_000_000, declare_length=declare_length))
    with make_client(fake_time, max_bytes=100_000) as http, pytest.raises(ResponseTooLarge):
        http.get_json(f"{web.url}/data.json")
    with make_client(fake_time, max_bytes=100_000) as http:  # the next request is served normally
        assert http.get_json(f"{web.url}/data.json") == {"ok": True}


def test_user_agent_names_the_product(web: FakeWeb, fake_time: FakeTime) -> None:
    with make_client(fake_time) as http:
        http.get_json(f"{web.url}/data.json")
    agent = web.requests_to("/data.json")[0].headers["user-agent"]
    assert agent.startswith(f"Upswing/{__version__} (+http")


# ---- budgets, rate limits, breaker


def test_budget_refuses_before_any_request(web: FakeWeb, fake_time: FakeTime) -> None:
    budgets = InMemoryBudgetStore({"pages": 2})
    with make_client(fake_time, budgets=budgets) as http:
        http.request("GET", f"{web.url}/data.json", budget="pages")
        http.request("GET", f"{web.url}/data.json", budget="pages")
        with pytest.raises(BudgetExhausted) as caught:
            http.request("GET", f"{web.url}/data.json", budget="pages")
        assert http.budget_left("pages") == 0
    assert caught.value.used == 2 and caught.value.limit == 2
    assert len(web.requests_to("/data.json")) == 2


def test_budget_rolls_over_with_the_day() -> None:
    day = [datetime(2026, 11, 22).date()]
    budgets = InMemoryBudgetStore({"profiles": 3}, today=lambda: day[0])
    assert budgets.try_spend("profiles", 3)
    assert not budgets.try_spend("profiles", 1)
    assert budgets.used("profiles") == 3
    day[0] = datetime(2026, 11, 23).date()
    assert budgets.used("profiles") == 0 and budgets.try_spend("profiles", 2)
    assert not budgets.try_spend("profiles", 2)  # all or nothing
    assert budgets.used("profiles") == 2


def test_api_rate_limit_spaces_requests(web: FakeWeb, fake_time: FakeTime) -> None:
    with make_client(fake_time, api_limits={"svc": RateLimit(2.0, 1.0)}) as http:
        for _ in range(3):
            http.request("GET", f"{web.url}/data.json", api="svc")
    assert fake_time.sleeps == pytest.approx([0.5, 0.5])


def test_host_rate_limit_applies_to_every_request(web: FakeWeb, fake_time: FakeTime) -> None:
    host = f"127.0.0.1:{web.port}"
    with make_client(fake_time, host_limits={host: RateLimit(4.0, 2.0)}) as http:
        for _ in range(4):
            http.request("GET", f"{web.url}/data.json")
    assert fake_time.sleeps == pytest.approx([0.25, 0.25])


def test_circuit_opens_after_failures_and_half_opens_after_cooldown(web: FakeWeb, fake_time: FakeTime) -> None:
    web.inject("/data.json", Fault.server_error(500), times=3)
    policy = BreakerPolicy(failure_threshold=3, cooldown_s=60)
    with make_client(fake_time, breaker=policy, retry=RetryPolicy(max_retries=0)) as http:
        for _ in range(3):
            with pytest.raises(ServerError):
                http.get_json(f"{web.url}/data.json")
        assert http.breaker_state(web.url) is BreakerState.OPEN
        with pytest.raises(CircuitOpen):
            http.get_json(f"{web.url}/data.json")
        assert len(web.requests_to("/data.json")) == 3  # the refused call never left
        fake_time.advance(61)
        assert http.get_json(f"{web.url}/data.json") == {"ok": True}  # the half-open trial succeeds
        assert http.breaker_state(web.url) is BreakerState.CLOSED


def test_failed_half_open_trial_opens_again(web: FakeWeb, fake_time: FakeTime) -> None:
    web.inject("/data.json", Fault.server_error(500), times=3)
    with make_client(fake_time, breaker=BreakerPolicy(2, 10), retry=RetryPolicy(max_retries=0)) as http:
        for _ in range(2):
            with pytest.raises(ServerError):
                http.get_json(f"{web.url}/data.json")
        fake_time.advance(11)
        with pytest.raises(ServerError):
            http.get_json(f"{web.url}/data.json")
        assert http.breaker_state(web.url) is BreakerState.OPEN
        with pytest.raises(CircuitOpen):
            http.get_json(f"{web.url}/data.json")


# ---- robots.txt


def test_disallowed_page_is_never_requested(web: FakeWeb, fake_time: FakeTime) -> None:
    web.robots_txt = "User-agent: *\nDisallow: /private/\n"
    web.add_page("/private/report.html", "<p>secret</p>")
    web.add_page("/news.html", "<p>news</p>")
    with make_client(fake_time) as http:
        with pytest.raises(Disallowed):
            http.get_page(f"{web.url}/private/report.html")
        assert http.get_page(f"{web.url}/news.html").status == 200
        http.get_page(f"{web.url}/news.html")
    assert web.requests_to("/private/") == []
    assert len(web.requests_to("robots")) == 1  # fetched once, then cached


def test_robots_rules_for_our_user_agent(web: FakeWeb, fake_time: FakeTime) -> None:
    web.robots_txt = "User-agent: Upswing\nDisallow: /\n\nUser-agent: *\nAllow: /\n"
    web.add_page("/a.html", "a")
    with make_client(fake_time) as http, pytest.raises(Disallowed):
        http.get_page(f"{web.url}/a.html")
    assert web.requests_to("/a.html") == []


def test_missing_robots_allows_and_unreachable_robots_disallows(web: FakeWeb, fake_time: FakeTime) -> None:
    web.add_page("/a.html", "a")
    web.robots_txt = None
    with make_client(fake_time) as http:
        assert http.get_page(f"{web.url}/a.html").status == 200
    web.robots_status = 503
    with make_client(fake_time, retry=RetryPolicy(max_retries=0)) as http, pytest.raises(Disallowed):
        http.get_page(f"{web.url}/a.html")
    assert len(web.requests_to("/a.html")) == 1


def test_redirect_into_a_disallowed_path_is_not_followed(web: FakeWeb, fake_time: FakeTime) -> None:
    web.robots_txt = "User-agent: *\nDisallow: /private/\n"
    web.add_redirect("/go", "/private/page.html")
    web.add_page("/private/page.html", "x")
    with make_client(fake_time) as http, pytest.raises(Disallowed):
        http.get_page(f"{web.url}/go")
    assert web.requests_to("/private/") == []


def test_api_calls_skip_robots(web: FakeWeb, fake_time: FakeTime) -> None:
    web.robots_txt = "User-agent: *\nDisallow: /\n"
    with make_client(fake_time) as http:
        assert http.get_json(f"{web.url}/data.json") == {"ok": True}
    assert web.requests_to("robots") == []


def test_crawl_delay_slows_page_fetches(web: FakeWeb, fake_time: FakeTime) -> None:
    web.robots_txt = "User-agent: *\nCrawl-delay: 5\n"
    web.add_page("/a.html", "a")
    with make_client(fake_time) as http:
        for _ in range(3):
            http.get_page(f"{web.url}/a.html")
    assert sum(fake_time.sleeps) == pytest.approx(10.0)


# ---- conditional GET


def test_conditional_get_returns_cached_body_on_304(web: FakeWeb, fake_time: FakeTime) -> None:
    web.add_page("/page.html", "<p>v1</p>", last_modified=NOW - timedelta(days=1))
    with make_client(fake_time) as http:
        first = http.get_page(f"{web.url}/page.html")
        second = http.get_page(f"{web.url}/page.html")
    assert not first.not_modified and first.content == b"<p>v1</p>"
    assert second.not_modified and second.status == 304 and second.content == b"<p>v1</p>"
    logged = web.requests_to("/page.html")
    assert logged[1].headers["if-none-match"] == first.headers["etag"]
    assert "if-modified-since" in logged[1].headers


def test_conditional_get_with_validators_from_a_cursor(web: FakeWeb, fake_time: FakeTime) -> None:
    web.add_page("/page.html", "<p>v1</p>")
    with make_client(fake_time) as http:
        etag = http.get_page(f"{web.url}/page.html").validators.etag
    with make_client(fake_time) as fresh:  # a new process: no cached body, only the saved validators
        again = fresh.get_page(f"{web.url}/page.html", validators=Validators(etag=etag))
        assert again.not_modified and again.content == b""
        web.add_page("/page.html", "<p>v2</p>")
        changed = fresh.get_page(f"{web.url}/page.html", validators=Validators(etag=etag))
        assert not changed.not_modified and changed.content == b"<p>v2</p>"


# ---- proxies


def test_proxy_pool_rotates_and_marks_dead_proxies_bad(web: FakeWeb, fake_time: FakeTime) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    proxy = FakeProxy()
    with proxy as live:
        pool = ProxyPool([dead, live], clock=fake_time.clock)
        with make_client(fake_time, proxies=pool) as http:
            for _ in range(3):
                assert http.get_json(f"{web.url}/data.json") == {"ok": True}
        assert pool.healthy() == [live]
        assert len(proxy.requests) == 3
        assert proxy.requests[0].path == f"{web.url}/data.json"
        assert pool.health_check(f"{web.url}/data.json", timeout_s=2) == {dead: False, live: True}
    fake_time.advance(301)
    assert set(pool.healthy()) == {dead, live}  # the cool-down is over


def test_no_healthy_proxy_refuses_instead_of_going_direct(fake_time: FakeTime) -> None:
    pool = ProxyPool(["http://127.0.0.1:9"], clock=fake_time.clock)
    pool.mark_bad("http://127.0.0.1:9")
    with make_client(fake_time, proxies=pool) as http, pytest.raises(NoHealthyProxy):
        http.get_json("http://127.0.0.1:1/x")


# ---- helpers


@pytest.mark.parametrize(("value", "expected"), [
    ("120", 120.0),
    (" 3 ", 3.0),
    ("Sun, 22 Nov 2026 12:01:00 GMT", 60.0),
    ("Sun, 22 Nov 2026 11:00:00 GMT", 0.0),
    ("soon", None),
    (None, None),
])
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


# ---- TLS context

def test_clients_share_one_tls_context(web: FakeWeb, fake_time: FakeTime, monkeypatch: pytest.MonkeyPatch) -> None:
    # Building a TLS context reads the whole CA bundle (~26 ms); a worker builds clients per task.
    from upswing.notify.email import BrevoTransport

    def clients() -> None:
        assert make_client(fake_time).get_json(f"{web.url}/data.json") == {"ok": True}
        BrevoTransport(api_key="k", base_url=web.url, sender_email="alerts@example.com")

    clients()  # the first may build the process's one
    built: list[object] = []
    original = ssl.SSLContext.load_verify_locations
    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations",
                        lambda self, *args, **kwargs: (built.append(self), original(self, *args, **kwargs))[1])
    clients()
    clients()
    assert built == []
