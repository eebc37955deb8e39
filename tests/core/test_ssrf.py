"""Must show: outbound requests never reach a private, loopback, link-local (cloud metadata), multicast, reserved or
unspecified address, however the URL spells it, whatever a host name resolves to (checked on the address the
connection is made to, so a changed DNS answer cannot slip through), on every redirect hop, through a proxy too;
an allow-listed host or network is reached; and an admin saving such a URL in a source's settings gets a 422
naming the setting (on SQLite and PostgreSQL)."""

from __future__ import annotations

import ipaddress
import json
import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session

from factories import auth, make_user
from upswing.account.models import Role
from upswing.core import http as http_module
from upswing.core.http import (
    HttpClient,
    IPAddress,
    OutboundPolicy,
    OutboundRefused,
    ProxyPool,
    check_outbound_url,
)
from upswing.fakes.proxy import FakeProxy
from upswing.fakes.timing import FakeTime
from upswing.fakes.web import FakeWeb, html_page
from upswing.settings import Settings, get_settings
from upswing.source.connector import FetchRequest, Target
from upswing.source.connectors.web_page import WebPageConfig, WebPageConnector

NOBODY = OutboundPolicy()  # nothing allow-listed
LOOPBACK_POLICY = OutboundPolicy.create(["127.0.0.1"])
PUBLIC = "93.184.216.34"


@pytest.fixture
def web() -> Iterator[FakeWeb]:
    fake = FakeWeb()
    fake.start()
    fake.add_page("/data.json", '{"ok": true}', content_type="application/json")
    fake.add_page("/page", html_page("Newsroom", ["Acme hires a new chief executive officer this week."] * 3))
    yield fake
    fake.stop()


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[list[str]]]:
    """A resolver the test controls: ``dns["name"] = [["10.0.0.1"], …]`` gives one answer per look-up (the
    last one again once they run out); other names do not resolve. Every look-up Upswing makes goes through
    ``core.http.resolve_host``."""
    answers: dict[str, list[list[str]]] = {}

    def resolve(host: str, port: int) -> list[IPAddress]:
        queue = answers.get(host.lower())
        if not queue:
            raise OSError(f"{host}: Name or service not known")
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        return [ipaddress.ip_address(a) for a in answer]

    monkeypatch.setattr(http_module, "resolve_host", resolve)
    return answers


def guarded_client(outbound: OutboundPolicy | None = NOBODY, **kwargs: Any) -> HttpClient:
    fake_time = FakeTime()
    return HttpClient(clock=fake_time.clock, sleep=fake_time.sleep, rng=random.Random(1), page_limit=None,
                      outbound=outbound, **kwargs)


# ---- the rule, on URLs as an admin saves them


@pytest.mark.parametrize(("url", "why"), [
    ("http://127.0.0.1/", "loopback"),
    ("http://127.0.0.1:8080/admin", "loopback"),
    ("http://169.254.169.254/latest/meta-data/iam/", "cloud metadata"),
    ("http://[::1]/", "loopback"),
    ("http://[::1]:9000/", "loopback"),
    ("http://2130706433/", "loopback"),  # 127.0.0.1 as one decimal number
    ("http://0x7f.1/", "loopback"),  # hex, short form
    ("http://0177.0.0.1/", "loopback"),  # octal
    ("http://127.1/", "loopback"),
    ("http://0x7f000001/", "loopback"),
    ("http://017700000001/", "loopback"),
    ("http://[::ffff:127.0.0.1]/", "loopback"),  # IPv4-mapped IPv6
    ("http://[::ffff:a9fe:a9fe]/", "cloud metadata"),
    ("http://[2002:7f00:1::]/", "loopback"),  # 6to4 of 127.0.0.1
    ("http://[64:ff9b::a9fe:a9fe]/", "cloud metadata"),  # NAT64 of 169.254.169.254
    ("http://0.0.0.0/", "unspecified"),
    ("http://0/", "unspecified"),
    ("http://[::]/", "unspecified"),
    ("http://10.1.2.3/", "private"),
    ("http://172.16.0.1/", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://100.64.0.1/", "not a public address"),  # carrier-grade NAT
    ("http://169.254.10.10/", "link-local"),
    ("http://[fe80::1%25eth0]/", "link-local"),
    ("http://[fd00::1]/", "private"),
    ("http://224.0.0.1/", "multicast"),
    ("http://[ff02::1]/", "multicast"),
    ("http://240.0.0.1/", "reserved"),
    ("http://localhost:8000/", "loopback name"),
    ("http://LOCALHOST./", "loopback name"),
    ("http://api.localhost/", "loopback name"),
    ("ftp://example.org/file", "only http and https"),
    ("file:///etc/passwd", "only http and https"),
    ("http:///nohost", "names no host"),
])
def test_non_public_targets_are_refused_in_every_spelling(url: str, why: str) -> None:
    with pytest.raises(OutboundRefused, match=why) as caught:
        check_outbound_url(url, policy=NOBODY)
    assert "UPSWING_OUTBOUND_ALLOW_HOSTS" in str(caught.value)


@pytest.mark.parametrize("url", [f"http://{PUBLIC}/", "https://[2606:4700:4700::1111]/dns-query",
                                 "https://news.example.org/feed?x=1"])
def test_public_targets_and_names_that_do_not_resolve_now_pass(url: str, dns: dict[str, Any]) -> None:
    check_outbound_url(url, policy=NOBODY)  # news.example.org does not resolve: checked again when connected to


def test_a_name_is_judged_by_every_address_it_resolves_to(dns: dict[str, list[list[str]]]) -> None:
    dns["intranet.example"] = [["10.20.0.7"]]
    dns["mixed.example"] = [[PUBLIC, "127.0.0.1"]]
    dns["metadata.example"] = [["fd00:ec2::254"]]
    dns["fine.example"] = [[PUBLIC, "2606:4700:4700::1111"]]
    with pytest.raises(OutboundRefused, match=r"intranet\.example resolves to 10\.20\.0\.7, a private address"):
        check_outbound_url("https://intranet.example/wiki", policy=NOBODY)
    with pytest.raises(OutboundRefused, match=r"resolves to 127\.0\.0\.1, a loopback address"):
        check_outbound_url("https://mixed.example/", policy=NOBODY)
    with pytest.raises(OutboundRefused, match="cloud metadata"):
        check_outbound_url("http://metadata.example/", policy=NOBODY)
    check_outbound_url("https://fine.example/", policy=NOBODY)


def test_allow_lists_from_the_settings(dns: dict[str, list[list[str]]]) -> None:
    dns["crm.internal"] = [["10.20.0.7"]]
    dns["wiki.internal"] = [["10.30.0.9"]]
    settings = Settings(outbound_allow_hosts="127.0.0.1, crm.internal", outbound_allow_networks='["10.30.0.0/16"]')
    assert settings.outbound_allow_hosts == ["127.0.0.1", "crm.internal"]
    for url in ("http://127.0.0.1:8080/", "http://2130706433/", "http://[::ffff:127.0.0.1]/",
                "https://crm.internal/api", "https://wiki.internal/", "http://10.30.1.1/"):
        check_outbound_url(url, settings)
    for url in ("http://127.0.0.2/", "http://[::1]/", "http://10.20.0.7/", "http://169.254.169.254/"):
        with pytest.raises(OutboundRefused):
            check_outbound_url(url, settings)


# ---- the HTTP layer: every request, on the connection itself


def test_requests_to_loopback_and_metadata_addresses_are_refused_before_anything_is_sent(web: FakeWeb) -> None:
    with guarded_client() as http:
        for send in (lambda: http.get_json(f"{web.url}/data.json"), lambda: http.get_page(f"{web.url}/page"),
                     lambda: http.get_json(f"http://[::1]:{web.port}/data.json"),
                     lambda: http.get_json(f"http://2130706433:{web.port}/data.json"),
                     lambda: http.get_json("http://169.254.169.254/latest/meta-data/")):
            with pytest.raises(OutboundRefused) as caught:
                send()
            assert caught.value.blocks_source and "allow-listed" in str(caught.value)
        assert http.requests_sent == 0
    assert web.requests == []  # not even robots.txt


def test_a_name_resolving_to_a_private_address_is_refused_at_the_connection(web: FakeWeb,
                                                                           dns: dict[str, list[list[str]]]) -> None:
    dns["intranet.example"] = [["127.0.0.1"]]
    with guarded_client() as http, pytest.raises(OutboundRefused, match=r"intranet\.example resolves to 127\.0\.0\.1"):
        http.get_json(f"http://intranet.example:{web.port}/data.json")
    assert web.requests == []


def test_a_dns_answer_that_changes_after_the_check_is_caught_where_it_connects(web: FakeWeb,
                                                                              dns: dict[str, Any]) -> None:
    """DNS rebinding: the name is public when the admin saves it, loopback when the request is made."""
    dns["rebind.example"] = [[PUBLIC], ["127.0.0.1"]]
    url = f"http://rebind.example:{web.port}/data.json"
    check_outbound_url(url, policy=NOBODY)  # first answer: public, accepted
    with guarded_client() as http, pytest.raises(OutboundRefused, match=r"resolves to 127\.0\.0\.1"):
        http.get_json(url)  # second answer: refused on the connection
    assert web.requests == []


def test_the_connection_goes_to_the_address_that_was_vetted(web: FakeWeb, dns: dict[str, Any]) -> None:
    """A name the system resolver does not know is reached at the address the guard resolved and allowed, with
    the request's own Host header."""
    dns["fake-web.example"] = [["127.0.0.1"]]
    with guarded_client(OutboundPolicy.create(networks=["127.0.0.0/8"])) as http:
        assert http.get_json(f"http://fake-web.example:{web.port}/data.json") == {"ok": True}
    assert web.requests_to("/data.json")[0].headers["host"] == f"fake-web.example:{web.port}"


@pytest.mark.parametrize("target", ["http://127.0.0.1:{port}/data.json", "http://169.254.169.254/latest/meta-data/",
                                    "http://[::1]:{port}/data.json", "http://sneaky.example:{port}/data.json"])
def test_a_public_url_redirecting_to_a_private_one_is_refused(web: FakeWeb, dns: dict[str, Any], target: str) -> None:
    # The fake plays a public site under an allow-listed name (it runs on loopback); the redirect leaves it.
    dns["public.example"] = [["127.0.0.1"]]
    dns["sneaky.example"] = [["127.0.0.1"]]
    web.add_redirect("/go", target.format(port=web.port))
    with guarded_client(OutboundPolicy.create(["public.example"])) as http:
        for send in (http.get_page, http.get_json):
            with pytest.raises(OutboundRefused):
                send(f"http://public.example:{web.port}/go")
    assert [r.path for r in web.requests if r.path != "/robots.txt"] == ["/go", "/go"]  # never /data.json


def test_through_a_proxy_the_target_is_checked_before_the_proxy_is_asked(web: FakeWeb, dns: dict[str, Any]) -> None:
    dns["intranet.example"] = [["10.20.0.7"]]
    proxy = FakeProxy()
    with proxy as proxy_url:
        with guarded_client(proxies=ProxyPool([proxy_url])) as http:
            for url in (f"{web.url}/data.json", "http://intranet.example/data.json", "http://169.254.169.254/"):
                with pytest.raises(OutboundRefused):
                    http.get_json(url)
        assert proxy.requests == []
        with guarded_client(LOOPBACK_POLICY, proxies=ProxyPool([proxy_url])) as http:
            assert http.get_json(f"{web.url}/data.json") == {"ok": True}  # the fake, allow-listed, via the proxy
        assert len(proxy.requests) == 1



@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Set ``UPSWING_*`` variables for the settings the code reads (and forget the cached settings)."""

    def set_env(**variables: str) -> None:
        for name, value in variables.items():
            monkeypatch.setenv(f"UPSWING_{name}", value)
        get_settings.cache_clear()

    get_settings.cache_clear()
    yield set_env
    get_settings.cache_clear()


@pytest.mark.parametrize("variables", [{"OUTBOUND_ALLOW_HOSTS": "127.0.0.1"},
                                       {"OUTBOUND_ALLOW_NETWORKS": "127.0.0.0/8,::1/128"},
                                       {"OUTBOUND_ALLOW_HOSTS": '["localhost", "127.0.0.1"]'}])
def test_an_allow_listed_loopback_is_reached(web: FakeWeb, settings_env: Callable[..., None],
                                             variables: dict[str, str]) -> None:
    with guarded_client(outbound=None) as http, pytest.raises(OutboundRefused):  # the settings: nothing allowed yet
        http.get_json(f"{web.url}/data.json")
    settings_env(**variables)
    with guarded_client(outbound=None) as http:  # the settings' allow-lists, as every connector's client
        assert http.get_json(f"{web.url}/data.json") == {"ok": True}
        assert http.get_page(f"{web.url}/page").status == 200
    with guarded_client(outbound=None) as http, pytest.raises(OutboundRefused):  # only what is allow-listed
        http.get_json("http://169.254.169.254/latest/meta-data/")


def test_a_connector_reports_a_refused_page(web: FakeWeb) -> None:
    """Connectors fetch through the shared client, so they get the guard without code of their own."""
    with guarded_client() as http:
        connector = WebPageConnector(http)
        with pytest.raises(OutboundRefused, match="loopback"):
            connector.fetch(WebPageConfig(), None, FetchRequest(targets=[Target("lead-1", f"{web.url}/page")]))
    assert web.requests == []


# ---- configuring a source


def _admin_headers(app: Any, db_session: Session) -> dict[str, str]:
    admin = make_user(db_session, Role.ADMIN)
    db_session.commit()
    return auth(app, admin)


@pytest.mark.parametrize(("slug", "field", "config"), [
    ("web-page", "urls.1", {"urls": ["https://news.example.org/", "http://169.254.169.254/latest/meta-data/"]}),
    ("rss", "feeds.0", {"feeds": ["http://127.0.0.1:8080/feed.xml"]}),
    ("apify-linkedin", "base_url", {"base_url": "http://[::1]:8000"}),
    ("firecrawl-about", "base_url", {"base_url": "http://2130706433/"}),
    ("company-domain", "google_base_url", {"google_base_url": "http://intranet.example"}),
])
def test_saving_a_source_url_that_points_inside_is_refused_by_name(app: Any, client: Any, db_session: Session,
                                                                  dns: dict[str, Any], slug: str, field: str,
                                                                  config: dict[str, Any]) -> None:
    dns["intranet.example"] = [["192.168.0.10"]]
    headers = _admin_headers(app, db_session)
    answer = client.put(f"/api/v1/sources/{slug}", headers=headers, json={"config": config})
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert [error["field"] for error in body["errors"]] == [field]
    assert field in body["detail"] and "allow-listed" in body["errors"][0]["message"]
    name = field.split(".")[0]
    value = config[name]
    refused = value[int(field.split(".")[1])] if isinstance(value, list) else value
    assert refused not in json.dumps(client.get(f"/api/v1/sources/{slug}", headers=headers).json())  # not saved


def test_saving_an_allow_listed_source_url_works(app: Any, client: Any, db_session: Session,
                                                 settings_env: Callable[..., None]) -> None:
    settings_env(OUTBOUND_ALLOW_HOSTS="127.0.0.1")
    answer = client.put("/api/v1/sources/rss", headers=_admin_headers(app, db_session),
                        json={"config": {"feeds": ["http://127.0.0.1:8080/feed.xml"]}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["config"]["feeds"] == ["http://127.0.0.1:8080/feed.xml"]
