"""The one outbound HTTP layer every connector uses (sync, on httpx).

Connectors never build their own clients: they receive an :class:`HttpClient`, so retries, rate limits,
daily budgets, the circuit breaker, robots.txt, proxies, conditional GET, size/time limits and the outbound
guard behave the same for every external service. Everything that fails raises a subclass of :class:`HttpError`;
the monitoring engine records the message as the source's last error and reads ``blocks_source`` to choose
between the ``blocked`` and ``degraded`` states.

The outbound guard (server-side request forgery): a request never goes to a private, loopback, link-local (cloud
metadata), multicast, reserved or unspecified address, however the URL spells it (``http://2130706433/``,
``http://0x7f.1/``, ``http://[::ffff:127.0.0.1]/``), whatever a host name resolves to, on every redirect hop,
unless the host or network is allow-listed (``UPSWING_OUTBOUND_ALLOW_HOSTS``, ``UPSWING_OUTBOUND_ALLOW_NETWORKS``).
The check is made on the connection itself: a host name is resolved once, every address it gives is vetted and
the socket is connected to a vetted address (TLS still verifies the certificate for the host name), so a DNS
answer that changes between a check and the connection (DNS rebinding) cannot slip through.
``check_outbound_url`` is the same rule for a URL an admin saves (source settings, webhooks).

The clock, the sleep and the random source are injectable, so tests never really wait.
"""

from __future__ import annotations

import email.utils
import ipaddress
import random
import re
import socket
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any, ClassVar, Protocol, runtime_checkable
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx
import orjson
from protego import Protego

from upswing import __version__
from upswing.settings import Settings, get_settings

__all__ = [
    "DEFAULT_API_LIMITS",
    "USER_AGENT",
    "Blocked",
    "BreakerPolicy",
    "BreakerState",
    "BudgetExhausted",
    "BudgetStore",
    "CircuitOpen",
    "ClientError",
    "Disallowed",
    "HttpClient",
    "HttpError",
    "HttpResponse",
    "HttpStatusError",
    "InMemoryBudgetStore",
    "MalformedResponse",
    "NoHealthyProxy",
    "OutboundPolicy",
    "OutboundRefused",
    "ProxyPool",
    "RateLimit",
    "RateLimited",
    "RequestTimedOut",
    "ResponseTooLarge",
    "RetryPolicy",
    "ServerError",
    "TransportFailed",
    "Validators",
    "check_outbound_url",
    "guarded_transport",
    "ip_literal",
    "parse_retry_after",
    "resolve_host",
    "safe_url",
]

PRODUCT_URL = "https://github.com/upswing/upswing"
USER_AGENT = f"Upswing/{__version__} (+{PRODUCT_URL})"

Clock = Callable[[], float]
Sleep = Callable[[float], None]

# --------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------


class HttpError(Exception):
    """Base of everything the HTTP layer raises. ``blocks_source``: the service refuses us until a person
    acts (credentials, credit, rental); otherwise the failure is transient and the source is degraded."""

    blocks_source: ClassVar[bool] = False

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url


class TransportFailed(HttpError):
    """No HTTP answer at all: connection refused or reset, DNS, protocol error (after retries)."""


class RequestTimedOut(TransportFailed):
    """The server was too slow: a connect/read timeout, or the response took longer than the total limit."""


class NoHealthyProxy(TransportFailed):
    """Every proxy in the pool is marked bad; we do not fall back to a direct connection."""


class HttpStatusError(HttpError):
    """The server answered with an error status (after retries where the status is retryable)."""

    def __init__(self, message: str, *, url: str | None, status: int, body: bytes = b"",
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message, url=url)
        self.status = status
        self.body = body[:8192]
        self.headers: Mapping[str, str] = dict(headers or {})

    def payload(self) -> Any:
        """The error body as JSON, or None when it is not JSON."""
        try:
            return orjson.loads(self.body) if self.body else None
        except orjson.JSONDecodeError:
            return None


class ClientError(HttpStatusError):
    """A 4xx other than 401/402/403/429: our request was wrong or the thing does not exist."""


class Blocked(HttpStatusError):
    """401, 402 or 403: bad credentials, no credit, not rented, forbidden. Retrying will not help."""

    blocks_source = True


class RateLimited(HttpStatusError):
    """429 after the retries, or with a Retry-After longer than we are willing to wait."""

    def __init__(self, message: str, *, url: str | None, status: int = 429, body: bytes = b"",
                 headers: Mapping[str, str] | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, url=url, status=status, body=body, headers=headers)
        self.retry_after = retry_after


class ServerError(HttpStatusError):
    """5xx after the retries."""


class BudgetExhausted(HttpError):
    """The daily budget is spent; raised before any request is made."""

    def __init__(self, budget: str, *, used: int, limit: int | None) -> None:
        super().__init__(f"daily budget {budget!r} exhausted ({used} of {limit} used today)")
        self.budget = budget
        self.used = used
        self.limit = limit


class CircuitOpen(HttpError):
    """Too many recent failures on this host: requests are refused until the cool-down ends."""

    def __init__(self, host: str, *, retry_in_s: float) -> None:
        super().__init__(f"circuit open for {host}: too many failures, retry in {retry_in_s:.0f} s")
        self.host = host
        self.retry_in_s = retry_in_s


class Disallowed(HttpError):
    """robots.txt does not let us fetch this page; the page was not requested."""

    def __init__(self, url: str, reason: str = "disallowed by robots.txt") -> None:
        super().__init__(f"{safe_url(url)}: {reason}", url=url)
        self.reason = reason


class ResponseTooLarge(HttpError):
    """The body went over the size limit; the download was aborted."""

    def __init__(self, url: str, limit: int) -> None:
        super().__init__(f"{safe_url(url)}: response larger than {limit} bytes, aborted", url=url)
        self.limit = limit


class MalformedResponse(HttpError):
    """The body is not what the API promises (invalid JSON, or JSON of an unexpected shape)."""


class OutboundRefused(HttpError):
    """The URL is not one we fetch: not http(s), or its host is (or resolves to) a private, loopback, link-local,
    multicast, reserved or unspecified address that is not allow-listed. Nothing was sent; retrying will not help
    (an admin changes the URL or allow-lists the host), so the source is blocked."""

    blocks_source = True

    def __init__(self, target: str, reason: str, *, url: str | None = None) -> None:
        super().__init__(f"{target}: {reason}; outbound requests never go to private, loopback, link-local, "
                         "multicast, reserved or unspecified addresses unless allow-listed "
                         "(UPSWING_OUTBOUND_ALLOW_HOSTS, UPSWING_OUTBOUND_ALLOW_NETWORKS)", url=url)
        self.target = target
        self.reason = reason

    def for_url(self, url: str) -> OutboundRefused:
        return OutboundRefused(safe_url(url), self.reason, url=url)


def safe_url(url: str) -> str:
    """The URL without query string or credentials (tokens travel in ``?token=`` / ``?key=``)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}" if parts.scheme else parts.path


# --------------------------------------------------------------------------------------------------
# Policies
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter (Apify's documented scheme: base × 2^n × uniform(1, 2), capped).

    Retries 429, 5xx and transport errors/timeouts. A Retry-After header is honoured when it asks for no
    more than ``retry_after_cap_s``; a longer one ends the request at once with :class:`RateLimited` so the
    caller can reschedule instead of holding a worker.
    """

    max_retries: int = 4
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    retry_after_cap_s: float = 120.0

    def backoff(self, retry_number: int, rng: random.Random) -> float:
        delay: float = self.base_delay_s * (2.0 ** retry_number) * rng.uniform(1.0, 2.0)
        return min(self.max_delay_s, delay)


NO_RETRY = RetryPolicy(max_retries=0)


@dataclass(frozen=True)
class RateLimit:
    """A token bucket: ``rate_per_s`` sustained, ``burst`` at once."""

    rate_per_s: float
    burst: float = 1.0

    def __post_init__(self) -> None:
        if self.rate_per_s <= 0 or self.burst < 1:
            raise ValueError("a rate limit needs rate_per_s > 0 and burst >= 1")

    @classmethod
    def per_minute(cls, count: float, burst: float | None = None) -> RateLimit:
        return cls(count / 60.0, burst if burst is not None else max(1.0, min(count, 10.0)))


# Published limits of the services we call, kept a little under the vendor's figure.
DEFAULT_API_LIMITS: dict[str, RateLimit] = {
    "apify": RateLimit(50.0, 50.0),  # 60 req/s per resource
    "google-cse": RateLimit(5.0, 5.0),
    "firecrawl": RateLimit.per_minute(90),  # Hobby plan: 100/min per endpoint
}

# Direct page fetches are polite by default: one request per second per host (robots.txt may ask for less).
DEFAULT_PAGE_LIMIT = RateLimit(1.0, 2.0)


@dataclass(frozen=True)
class BreakerPolicy:
    failure_threshold: int = 5  # consecutive failed attempts (5xx, transport) that open the circuit
    cooldown_s: float = 60.0  # how long it stays open before one trial request is let through


@dataclass(frozen=True)
class Validators:
    """What a conditional GET sends back: the ETag and Last-Modified of the copy we hold."""

    etag: str | None = None
    last_modified: str | None = None


# --------------------------------------------------------------------------------------------------
# Response
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpResponse:
    status: int
    url: str
    headers: httpx.Headers
    content: bytes
    elapsed_s: float = 0.0
    not_modified: bool = False  # a 304: ``content`` is the cached body (empty when we held none)

    def json(self) -> Any:
        try:
            return orjson.loads(self.content)
        except orjson.JSONDecodeError as exc:
            raise MalformedResponse(f"{safe_url(self.url)}: body is not valid JSON ({exc})", url=self.url) from None

    @property
    def text(self) -> str:
        charset = httpx.Headers(self.headers).get("content-type", "")
        encoding = "utf-8"
        for part in charset.split(";")[1:]:
            name, _, value = part.strip().partition("=")
            if name.lower() == "charset" and value:
                encoding = value.strip("\"' ")
        try:
            return self.content.decode(encoding, errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")

    @property
    def validators(self) -> Validators:
        return Validators(self.headers.get("etag"), self.headers.get("last-modified"))


# --------------------------------------------------------------------------------------------------
# Budgets
# --------------------------------------------------------------------------------------------------


@runtime_checkable
class BudgetStore(Protocol):
    """Daily budgets by name (e.g. ``linkedin-profiles``). The engine provides a database-backed one."""

    def try_spend(self, name: str, units: int) -> bool:
        """Spend ``units`` of today's budget if they are all left; False (and nothing spent) otherwise."""

    def used(self, name: str) -> int:
        """Units spent today."""

    def limit(self, name: str) -> int | None:
        """Today's limit; None means unlimited."""


class InMemoryBudgetStore:
    """Budgets kept in this process; the day rolls over at midnight UTC (``today`` is injectable)."""

    def __init__(self, limits: Mapping[str, int] | None = None, *,
                 today: Callable[[], date] = lambda: datetime.now(UTC).date()) -> None:
        self._limits = dict(limits or {})
        self._today = today
        self._used: dict[tuple[str, date], int] = {}
        self._lock = threading.Lock()

    def set_limit(self, name: str, limit: int | None) -> None:
        with self._lock:
            if limit is None:
                self._limits.pop(name, None)
            else:
                self._limits[name] = limit

    def try_spend(self, name: str, units: int) -> bool:
        if units < 0:
            raise ValueError("units must not be negative")
        with self._lock:
            key = (name, self._today())
            spent = self._used.get(key, 0)
            limit = self._limits.get(name)
            if limit is not None and spent + units > limit:
                return False
            self._used[key] = spent + units
            return True

    def used(self, name: str) -> int:
        with self._lock:
            return self._used.get((name, self._today()), 0)

    def limit(self, name: str) -> int | None:
        return self._limits.get(name)


# --------------------------------------------------------------------------------------------------
# Token buckets, circuit breakers, proxies
# --------------------------------------------------------------------------------------------------


class _TokenBucket:
    """Reserve-then-sleep: each caller takes a token (the level may go negative) and sleeps off its debt
    outside the lock, so concurrent callers queue fairly without holding it."""

    def __init__(self, limit: RateLimit, clock: Clock) -> None:
        self.limit = limit
        self._clock = clock
        self._tokens = limit.burst
        self._updated = clock()
        self._lock = threading.Lock()

    def reserve(self) -> float:
        with self._lock:
            now = self._clock()
            elapsed = max(0.0, now - self._updated)
            self._tokens = min(self.limit.burst, self._tokens + elapsed * self.limit.rate_per_s)
            self._updated = now
            self._tokens -= 1.0
            return 0.0 if self._tokens >= 0 else -self._tokens / self.limit.rate_per_s


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class _CircuitBreaker:
    def __init__(self, host: str, policy: BreakerPolicy, clock: Clock) -> None:
        self.host = host
        self._policy = policy
        self._clock = clock
        self._lock = threading.Lock()
        self.state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trial_running = False

    def before(self) -> None:
        with self._lock:
            if self.state is BreakerState.CLOSED:
                return
            waited = self._clock() - self._opened_at
            if self.state is BreakerState.OPEN and waited >= self._policy.cooldown_s:
                self.state = BreakerState.HALF_OPEN
                self._trial_running = False
            if self.state is BreakerState.HALF_OPEN and not self._trial_running:
                self._trial_running = True  # exactly one trial request goes through
                return
            raise CircuitOpen(self.host, retry_in_s=max(0.0, self._policy.cooldown_s - waited))

    def success(self) -> None:
        with self._lock:
            self.state = BreakerState.CLOSED
            self._failures = 0
            self._trial_running = False

    def failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self.state is BreakerState.HALF_OPEN or self._failures >= self._policy.failure_threshold:
                self.state = BreakerState.OPEN
                self._opened_at = self._clock()
                self._trial_running = False


class ProxyPool:
    """Round-robin over proxy URLs; one that fails at the transport level sits out ``cooldown_s``."""

    def __init__(self, proxies: list[str], *, cooldown_s: float = 300.0, clock: Clock = time.monotonic) -> None:
        if not proxies:
            raise ValueError("a proxy pool needs at least one proxy URL")
        self.proxies = list(dict.fromkeys(proxies))
        self._cooldown_s = cooldown_s
        self._clock = clock
        self._bad_until: dict[str, float] = {}
        self._next = 0
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            now = self._clock()
            for offset in range(len(self.proxies)):
                proxy = self.proxies[(self._next + offset) % len(self.proxies)]
                if self._bad_until.get(proxy, 0.0) <= now:
                    self._next = (self._next + offset + 1) % len(self.proxies)
                    return proxy
        raise NoHealthyProxy(f"all {len(self.proxies)} proxies are marked bad")

    def mark_bad(self, proxy: str) -> None:
        with self._lock:
            self._bad_until[proxy] = self._clock() + self._cooldown_s

    def mark_good(self, proxy: str) -> None:
        with self._lock:
            self._bad_until.pop(proxy, None)

    def healthy(self) -> list[str]:
        now = self._clock()
        with self._lock:
            return [proxy for proxy in self.proxies if self._bad_until.get(proxy, 0.0) <= now]

    def health_check(self, check_url: str, *, timeout_s: float = 5.0,
                     transport_for: Callable[[str], httpx.BaseTransport] | None = None) -> dict[str, bool]:
        """GET ``check_url`` through every proxy; mark each good or bad. Returns proxy → healthy."""
        results: dict[str, bool] = {}
        for proxy in self.proxies:
            try:
                kwargs: dict[str, Any] = {"transport": transport_for(proxy)} if transport_for else {"proxy": proxy}
                with httpx.Client(timeout=timeout_s, headers={"User-Agent": USER_AGENT}, verify=ssl_context(),
                                  **kwargs) as client:
                    healthy = client.get(check_url).status_code < 500
            except httpx.HTTPError:
                healthy = False
            (self.mark_good if healthy else self.mark_bad)(proxy)
            results[proxy] = healthy
        return results


# --------------------------------------------------------------------------------------------------
# Outbound guard (SSRF)
# --------------------------------------------------------------------------------------------------

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: IPv4 as ``inet_aton`` (and so the system resolver) reads it: ``2130706433``, ``0x7f.1``, ``0177.0.0.1``, ``127.1``.
_NUMERIC_HOST = re.compile(r"[0-9a-fA-FxX.]*[0-9][0-9a-fA-FxX.]*")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


def ip_literal(host: str) -> IPAddress | None:
    """The address a host that is an IP literal stands for, in any spelling the resolver accepts (``[::1]``,
    ``2130706433``, ``0x7f.1``, ``fe80::1%eth0``); None for a host name."""
    text = host.strip().removeprefix("[").removesuffix("]").rstrip(".").split("%", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if _NUMERIC_HOST.fullmatch(text):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


def _canonical_host(host: str) -> str:
    address = ip_literal(host)
    return str(address) if address is not None else host.strip().strip("[]").rstrip(".").lower()


def address_problem(address: IPAddress) -> str | None:
    """Why we never connect to ``address`` ("a loopback address" …), or None for a public address. An IPv6
    address that carries an IPv4 one (IPv4-mapped, 6to4, NAT64) is judged by that one too."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        problem = address_problem(embedded) if embedded is not None else None
        if problem is not None:
            return f"{problem} ({embedded} inside {address})"
    if address in _METADATA:
        return "the cloud metadata address"
    for label, applies in (("an unspecified", address.is_unspecified), ("a loopback", address.is_loopback),
                           ("a link-local", address.is_link_local), ("a multicast", address.is_multicast),
                           ("a private", address.is_private), ("a reserved", address.is_reserved)):
        if applies:
            return f"{label} address"
    return None if address.is_global else "not a public address"


def resolve_host(host: str, port: int) -> list[IPAddress]:
    """Every address the system resolver gives for ``host`` (raises ``OSError`` when it gives none). The one
    place names are resolved, before a connection and in ``check_outbound_url`` (tests replace it)."""
    found: list[IPAddress] = []
    for *_, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        address = ip_literal(str(sockaddr[0]))
        if address is not None and address not in found:
            found.append(address)
    if not found:
        raise OSError(f"{host} resolves to no address")
    return found


@dataclass(frozen=True)
class OutboundPolicy:
    """Which non-public targets are allowed anyway: host names or IP addresses (``allow_hosts``: the name as
    written in the URL, or an address it resolves to) and networks (``allow_networks``). Empty: none at all."""

    allow_hosts: frozenset[str] = frozenset()
    allow_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def create(cls, hosts: Iterable[str] = (), networks: Iterable[str] = ()) -> OutboundPolicy:
        """From text: ``OutboundPolicy.create(["127.0.0.1"])``, ``create(networks=["10.20.0.0/16"])``."""
        return cls(frozenset(_canonical_host(h) for h in hosts if h.strip()),
                   tuple(ipaddress.ip_network(n.strip(), strict=False) for n in networks if n.strip()))

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> OutboundPolicy:
        settings = settings or get_settings()
        return cls.create(settings.outbound_allow_hosts, settings.outbound_allow_networks)

    def allows_host(self, host: str) -> bool:
        return _canonical_host(host) in self.allow_hosts

    def allows_address(self, address: IPAddress) -> bool:
        candidates = [address]
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            candidates.append(address.ipv4_mapped)
        return any(str(a) in self.allow_hosts or any(a in network for network in self.allow_networks)
                   for a in candidates)

    def check_address(self, target: str, address: IPAddress, host: str | None = None) -> None:
        """Raise :class:`OutboundRefused` unless ``address`` is public or allow-listed."""
        problem = address_problem(address)
        if problem is not None and not self.allows_address(address):
            via = f"{host} resolves to {address}, " if host and ip_literal(host) is None else f"{address} is "
            raise OutboundRefused(target, f"{via}{problem}")

    def addresses(self, host: str, port: int) -> list[IPAddress]:
        """The addresses a connection to ``host`` may go to: the literal, or every address the name resolves
        to, each vetted (one that is not refuses the host: a name that mixes public and private addresses is
        a rebinding attempt). An allow-listed name may resolve to anything. Raises ``OSError`` if it does not
        resolve, :class:`OutboundRefused` if an address is not allowed."""
        target = f"{host}:{port}"
        literal = ip_literal(host)
        if literal is not None:
            self.check_address(target, literal)
            return [literal]
        found = resolve_host(host, port)
        if not self.allows_host(host):
            for address in found:
                self.check_address(target, address, host)
        return found


def _url_target(url: str) -> tuple[str, int]:
    """(host, port) of an http(s) URL; :class:`OutboundRefused` for anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise OutboundRefused(safe_url(url) if "://" in url else url[:80], f"not a valid URL ({exc})",
                              url=url) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise OutboundRefused(url[:80], "only http and https URLs are fetched", url=url)
    if not parts.hostname:
        raise OutboundRefused(url[:80], "the URL names no host", url=url)
    return parts.hostname, port or (443 if scheme == "https" else 80)


def _is_localhost(host: str) -> bool:
    name = host.rstrip(".").lower()
    return name == "localhost" or name.endswith(".localhost")  # RFC 6761: always loopback


def check_outbound_url(url: str, settings: Settings | None = None, *, policy: OutboundPolicy | None = None,
                       resolve: bool = True) -> None:
    """Raise :class:`OutboundRefused` unless ``url`` is an http(s) URL whose host may be fetched under the
    settings' allow-lists (or ``policy``): an IP literal in any spelling is checked as it is, ``localhost``
    names are loopback, and a host name is resolved (``resolve``) and each of its addresses checked.

    For a URL being saved (source settings, webhook targets): a name that does not resolve now passes, since
    the connection is checked again when it is made (``HttpClient`` does that on every request)."""
    policy = policy or OutboundPolicy.from_settings(settings)
    host, port = _url_target(url)
    if policy.allows_host(host):
        return
    target = safe_url(url)
    literal = ip_literal(host)
    if literal is not None:
        try:
            policy.check_address(target, literal)
        except OutboundRefused as exc:
            raise exc.for_url(url) from None
        return
    if _is_localhost(host):
        raise OutboundRefused(target, f"{host} is a loopback name", url=url)
    if not resolve:
        return
    try:
        found = resolve_host(host, port)
    except OSError:
        return
    for address in found:
        try:
            policy.check_address(target, address, host)
        except OutboundRefused as exc:
            raise exc.for_url(url) from None


class _GuardedBackend(httpcore.SyncBackend):
    """httpcore's network backend, connecting only to addresses the policy vetted for the host (resolved
    here, once per connection, and connected to by address)."""

    def __init__(self, policy: OutboundPolicy) -> None:
        super().__init__()
        self.policy = policy

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        try:
            addresses = self.policy.addresses(host, port)
        except OSError as exc:  # the name does not resolve: a transport failure, as without the guard
            raise httpcore.ConnectError(f"{host}: {exc}") from exc
        failure: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(str(address), port, timeout=timeout, local_address=local_address,
                                           socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure


@lru_cache(maxsize=1)
def ssl_context() -> ssl.SSLContext:
    """The process's one TLS client context (certificates verified against the CA bundle, no environment
    overrides). Building one reads the whole bundle, ~26 ms here; httpx builds a new one for every client and
    transport unless given one, and a worker builds clients per task (an e-mail batch, a source run)."""
    return httpx.create_ssl_context(trust_env=False)


class _GuardedTransport(httpx.HTTPTransport):
    """httpx's transport on a connection pool whose connections go through ``_GuardedBackend`` (TLS is
    negotiated with the URL's host name, so certificates are verified for it, not for the address)."""

    def __init__(self, policy: OutboundPolicy, limits: httpx.Limits) -> None:
        super().__init__(verify=ssl_context(), limits=limits, trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context(), max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections, keepalive_expiry=limits.keepalive_expiry,
            network_backend=_GuardedBackend(policy))


def guarded_transport(policy: OutboundPolicy, limits: httpx.Limits | None = None) -> httpx.BaseTransport:
    """An httpx transport whose connections go only to addresses ``policy`` allows, for a caller that needs a
    plain ``httpx.Client`` rather than an :class:`HttpClient` (webhook delivery: the exact bytes it signed, one
    attempt, no redirects). A refused address raises :class:`OutboundRefused` from the request."""
    return _GuardedTransport(policy, limits or httpx.Limits(max_connections=64, max_keepalive_connections=32))


# --------------------------------------------------------------------------------------------------
# The client
# --------------------------------------------------------------------------------------------------


@dataclass
class _CachedPage:
    validators: Validators
    content: bytes
    headers: httpx.Headers


@dataclass
class _Robots:
    parser: Protego | None  # None: no rules (allow all)
    disallow_all: bool
    expires_at: float
    crawl_delay: float | None = None


@dataclass
class _Attempt:
    response: HttpResponse | None = None
    error: HttpError | None = None


_RETRYABLE_TRANSPORT = (httpx.TransportError,)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass
class HttpClient:
    """Shared by every connector; thread-safe. Close it (or use it as a context manager) when done."""

    user_agent: str = USER_AGENT
    timeout_s: float = 30.0  # connect / read / write timeout of one attempt
    total_timeout_s: float = 120.0  # wall time of one attempt, body included
    max_bytes: int = 10 * 1024 * 1024
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    breaker: BreakerPolicy = field(default_factory=BreakerPolicy)
    api_limits: Mapping[str, RateLimit] = field(default_factory=lambda: dict(DEFAULT_API_LIMITS))
    host_limits: Mapping[str, RateLimit] = field(default_factory=dict)  # "host[:port]" → limit, every request
    page_limit: RateLimit | None = DEFAULT_PAGE_LIMIT  # per host, direct page fetches only
    budgets: BudgetStore | None = None
    proxies: ProxyPool | None = None
    respect_robots: bool = True
    robots_ttl_s: float = 24 * 3600.0
    robots_unreachable_ttl_s: float = 600.0
    cache_entries: int = 4096  # conditional-GET bodies kept in memory
    max_redirects: int = 5
    clock: Clock = time.monotonic
    sleep: Sleep = time.sleep
    wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    rng: random.Random = field(default_factory=random.Random)
    transport: httpx.BaseTransport | None = None  # tests may pass httpx.MockTransport
    #: Which private targets may be reached anyway; None: the settings' allow-lists (UPSWING_OUTBOUND_ALLOW_*).
    outbound: OutboundPolicy | None = None

    def __post_init__(self) -> None:
        self._outbound = self.outbound if self.outbound is not None else OutboundPolicy.from_settings()
        self._lock = threading.Lock()
        self._clients: dict[str | None, httpx.Client] = {}
        self._buckets: dict[str, _TokenBucket] = {}
        self._breakers: dict[str, _CircuitBreaker] = {}
        self._robots: dict[str, _Robots] = {}
        self._robots_locks: dict[str, threading.Lock] = {}
        self._cache: OrderedDict[str, _CachedPage] = OrderedDict()
        self.requests_sent = 0  # attempts that went on the wire (robots.txt included)

    # ---- lifecycle

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()

    # ---- budgets

    def spend(self, budget: str, units: int = 1) -> None:
        """Take ``units`` from today's budget or raise :class:`BudgetExhausted` (nothing is spent then)."""
        if self.budgets is None or units == 0:
            return
        if not self.budgets.try_spend(budget, units):
            raise BudgetExhausted(budget, used=self.budgets.used(budget), limit=self.budgets.limit(budget))

    def budget_left(self, budget: str) -> int | None:
        """Units left today, or None when unlimited."""
        if self.budgets is None:
            return None
        limit = self.budgets.limit(budget)
        return None if limit is None else max(0, limit - self.budgets.used(budget))

    def breaker_state(self, url_or_host: str) -> BreakerState:
        host = _host_key(url_or_host) if "://" in url_or_host else url_or_host
        breaker = self._breakers.get(host)
        return breaker.state if breaker else BreakerState.CLOSED

    # ---- public requests

    def request(self, method: str, url: str, *, params: Mapping[str, Any] | None = None, json: Any = None,
                headers: Mapping[str, str] | None = None, api: str | None = None, budget: str | None = None,
                units: int = 1, retry: RetryPolicy | None = None, max_bytes: int | None = None,
                timeout_s: float | None = None, conditional: bool = False,
                validators: Validators | None = None) -> HttpResponse:
        """An API call: no robots.txt check (service endpoints are not crawled pages).

        ``api`` picks a per-API rate limit (``"apify"``); ``budget`` spends ``units`` of a daily budget
        before anything is sent. Returns 2xx responses (and 304 when conditional); raises otherwise.
        """
        if budget is not None:
            self.spend(budget, units)
        return self._execute(method, url, params=params, json=json, headers=headers, api=api, retry=retry,
                             max_bytes=max_bytes, timeout_s=timeout_s, conditional=conditional,
                             validators=validators, page=False)

    def get_json(self, url: str, **kwargs: Any) -> Any:
        return self.request("GET", url, **kwargs).json()

    def post_json(self, url: str, body: Any, **kwargs: Any) -> Any:
        return self.request("POST", url, json=body, **kwargs).json()

    def get_page(self, url: str, *, headers: Mapping[str, str] | None = None, conditional: bool = True,
                 validators: Validators | None = None, max_bytes: int | None = None,
                 budget: str | None = None, units: int = 1) -> HttpResponse:
        """A direct fetch of a web page or feed: robots.txt is checked first (and on every redirect hop);
        a disallowed page raises :class:`Disallowed` and is never requested."""
        self._vet(url)
        if not self.allowed(url):
            raise Disallowed(url)
        if budget is not None:
            self.spend(budget, units)
        return self._execute("GET", url, params=None, json=None, headers=headers, api=None, retry=None,
                             max_bytes=max_bytes, timeout_s=None, conditional=conditional,
                             validators=validators, page=True)

    def allowed(self, url: str) -> bool:
        """Whether robots.txt lets our User-Agent fetch ``url`` (fetching and caching robots.txt if needed)."""
        if not self.respect_robots:
            return True
        robots = self._robots_for(url)
        if robots.disallow_all:
            return False
        return robots.parser is None or bool(robots.parser.can_fetch(url, self.user_agent))

    # ---- internals

    def _execute(self, method: str, url: str, *, params: Mapping[str, Any] | None, json: Any,
                 headers: Mapping[str, str] | None, api: str | None, retry: RetryPolicy | None,
                 max_bytes: int | None, timeout_s: float | None, conditional: bool,
                 validators: Validators | None, page: bool) -> HttpResponse:
        current = url
        body_method = method
        for hop in range(self.max_redirects + 1):
            self._vet(current)
            if hop and page and not self.allowed(current):
                raise Disallowed(current, "redirect target disallowed by robots.txt")
            response = self._with_retries(body_method, current, params=params, json=json, headers=headers,
                                          api=api, retry=retry or self.retry, max_bytes=max_bytes or self.max_bytes,
                                          timeout_s=timeout_s, conditional=conditional, validators=validators,
                                          page=page)
            if response.status not in _REDIRECTS:
                return response
            location = response.headers.get("location")
            if not location:
                raise ClientError(f"{safe_url(current)}: redirect without a Location", url=current,
                                  status=response.status)
            current = urljoin(current, location)
            params = None  # the Location carries the full target
            if response.status == 303 or (response.status in (301, 302) and body_method == "POST"):
                body_method, json = "GET", None
        raise ClientError(f"{safe_url(url)}: more than {self.max_redirects} redirects", url=url, status=310)

    def _vet(self, url: str) -> None:
        """The outbound guard before each hop. Without a proxy the connection itself is checked (the address
        connected to is the one vetted), so only what needs no DNS look-up is checked here; a proxy resolves
        names itself, so then the name is resolved and checked here; a transport given by a test decides."""
        check_outbound_url(url, policy=self._outbound, resolve=self.proxies is not None and self.transport is None)

    def _with_retries(self, method: str, url: str, *, params: Mapping[str, Any] | None, json: Any,
                      headers: Mapping[str, str] | None, api: str | None, retry: RetryPolicy, max_bytes: int,
                      timeout_s: float | None, conditional: bool, validators: Validators | None,
                      page: bool) -> HttpResponse:
        host = _host_key(url)
        breaker = self._breaker(host)
        sent_headers = dict(headers or {})
        cached = self._conditional_headers(url, sent_headers, validators) if conditional and method == "GET" else None
        content = orjson.dumps(json) if json is not None else None
        if content is not None:
            sent_headers.setdefault("Content-Type", "application/json")
        retries_done = 0
        while True:
            breaker.before()
            self._throttle(host, api, page)
            proxy = self.proxies.next() if self.proxies is not None else None
            attempt = self._attempt(method, url, params, content, sent_headers, max_bytes, timeout_s, proxy)
            if attempt.error is not None:
                if isinstance(attempt.error, TransportFailed):
                    breaker.failure()
                    if proxy is not None and self.proxies is not None:
                        self.proxies.mark_bad(proxy)
                    if retries_done < retry.max_retries:
                        self.sleep(retry.backoff(retries_done, self.rng))
                        retries_done += 1
                        continue
                else:
                    breaker.success()  # the host answered; the problem is the body
                raise attempt.error
            response = attempt.response
            assert response is not None
            status = response.status
            if status < 400:
                breaker.success()
                if status == 304 and conditional:
                    return _not_modified(response, cached)
                if conditional and method == "GET" and status == 200:
                    self._remember(url, response)
                return response
            retry_after = parse_retry_after(response.headers.get("retry-after"), self.wall_clock())
            if status == 429 or status >= 500:
                if status >= 500:
                    breaker.failure()
                else:
                    breaker.success()
                too_long = retry_after is not None and retry_after > retry.retry_after_cap_s
                if retries_done < retry.max_retries and not too_long:
                    backoff = retry.backoff(retries_done, self.rng)
                    self.sleep(retry_after if retry_after is not None else backoff)
                    retries_done += 1
                    continue
                raise _status_error(method, response, retry_after)
            breaker.success()
            raise _status_error(method, response, retry_after)

    def _attempt(self, method: str, url: str, params: Mapping[str, Any] | None, content: bytes | None,
                 headers: Mapping[str, str], max_bytes: int, timeout_s: float | None, proxy: str | None) -> _Attempt:
        client = self._client(proxy)
        started = self.clock()
        deadline = started + self.total_timeout_s
        timeout = httpx.Timeout(timeout_s if timeout_s is not None else self.timeout_s)
        self.requests_sent += 1
        try:
            with client.stream(method, url, params=_clean_params(params), content=content, headers=headers,
                               timeout=timeout) as streamed:
                declared = streamed.headers.get("content-length")
                if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                    return _Attempt(error=ResponseTooLarge(url, max_bytes))
                chunks: list[bytes] = []
                size = 0
                for chunk in streamed.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        return _Attempt(error=ResponseTooLarge(url, max_bytes))
                    if self.clock() > deadline:
                        return _Attempt(error=RequestTimedOut(
                            f"{safe_url(url)}: response took longer than {self.total_timeout_s:g} s", url=url))
                    chunks.append(chunk)
                return _Attempt(response=HttpResponse(
                    status=streamed.status_code, url=str(streamed.url), headers=streamed.headers,
                    content=b"".join(chunks), elapsed_s=self.clock() - started))
        except OutboundRefused as exc:  # from the connection: the host resolved to an address not allowed
            raise exc.for_url(url) from None
        except httpx.TimeoutException as exc:
            return _Attempt(error=RequestTimedOut(f"{method} {safe_url(url)}: timed out ({type(exc).__name__})",
                                                  url=url))
        except _RETRYABLE_TRANSPORT as exc:
            where = f" via proxy {safe_url(proxy)}" if proxy else ""
            return _Attempt(error=TransportFailed(f"{method} {safe_url(url)}{where}: {type(exc).__name__}: {exc}",
                                                  url=url))

    def _client(self, proxy: str | None) -> httpx.Client:
        with self._lock:
            client = self._clients.get(proxy)
            if client is None:
                kwargs: dict[str, Any] = {}
                limits = httpx.Limits(max_connections=64, max_keepalive_connections=32)
                if self.transport is not None:
                    kwargs["transport"] = self.transport
                elif proxy is not None:
                    kwargs["proxy"] = proxy
                else:
                    kwargs["transport"] = _GuardedTransport(self._outbound, limits)
                client = httpx.Client(
                    headers={"User-Agent": self.user_agent, "Accept": "application/json, */*"},
                    follow_redirects=False, trust_env=False, limits=limits, verify=ssl_context(), **kwargs)
                self._clients[proxy] = client
            return client

    def _breaker(self, host: str) -> _CircuitBreaker:
        with self._lock:
            breaker = self._breakers.get(host)
            if breaker is None:
                breaker = self._breakers[host] = _CircuitBreaker(host, self.breaker, self.clock)
            return breaker

    def _bucket(self, key: str, limit: RateLimit) -> _TokenBucket:
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None or bucket.limit != limit:
                bucket = self._buckets[key] = _TokenBucket(limit, self.clock)
            return bucket

    def _throttle(self, host: str, api: str | None, page: bool) -> None:
        waits = [0.0]
        host_limit = self.host_limits.get(host)
        if host_limit is not None:
            waits.append(self._bucket(f"host:{host}", host_limit).reserve())
        if page:
            page_limit = self._page_limit(host)
            if page_limit is not None:
                waits.append(self._bucket(f"page:{host}", page_limit).reserve())
        if api is not None and api in self.api_limits:
            waits.append(self._bucket(f"api:{api}", self.api_limits[api]).reserve())
        wait = max(waits)
        if wait > 0:
            self.sleep(wait)

    def _page_limit(self, host: str) -> RateLimit | None:
        robots = self._robots.get(host)
        delay = robots.crawl_delay if robots is not None else None
        if delay and delay > 0:
            slower = RateLimit(1.0 / delay, 1.0)
            if self.page_limit is None or slower.rate_per_s < self.page_limit.rate_per_s:
                return slower
        return self.page_limit

    # ---- robots.txt

    def _robots_for(self, url: str) -> _Robots:
        host = _host_key(url)
        with self._lock:
            lock = self._robots_locks.setdefault(host, threading.Lock())
        with lock:
            robots = self._robots.get(host)
            if robots is not None and robots.expires_at > self.clock():
                return robots
            robots = self._fetch_robots(url)
            self._robots[host] = robots
            return robots

    def _fetch_robots(self, url: str) -> _Robots:
        parts = urlsplit(url)
        robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
        now = self.clock()
        try:
            response = self._execute("GET", robots_url, params=None, json=None, headers=None, api=None,
                                     retry=RetryPolicy(max_retries=1, base_delay_s=0.5), max_bytes=512 * 1024,
                                     timeout_s=None, conditional=False, validators=None, page=False)
        except OutboundRefused:
            raise  # not a robots.txt answer: the host is not one we fetch from at all
        except (Blocked, ClientError):
            # RFC 9309 §2.3.1.3: robots.txt "unavailable" (4xx) means no rules.
            return _Robots(None, False, now + self.robots_ttl_s)
        except HttpError:
            # §2.3.1.4: "unreachable" (5xx, network) means assume complete disallow, for a while.
            return _Robots(None, True, now + self.robots_unreachable_ttl_s)
        parser = Protego.parse(response.text)
        delay = parser.crawl_delay(self.user_agent)
        return _Robots(parser, False, now + self.robots_ttl_s, float(delay) if delay else None)

    # ---- conditional GET

    def _conditional_headers(self, url: str, headers: dict[str, str],
                             validators: Validators | None) -> _CachedPage | None:
        with self._lock:
            cached = self._cache.get(url)
            if cached is not None:
                self._cache.move_to_end(url)
        use = validators or (cached.validators if cached else None)
        if use is not None:
            if use.etag:
                headers.setdefault("If-None-Match", use.etag)
            if use.last_modified:
                headers.setdefault("If-Modified-Since", use.last_modified)
        return cached

    def _remember(self, url: str, response: HttpResponse) -> None:
        validators = response.validators
        if not (validators.etag or validators.last_modified):
            return
        with self._lock:
            self._cache[url] = _CachedPage(validators, response.content, response.headers)
            self._cache.move_to_end(url)
            while len(self._cache) > self.cache_entries:
                self._cache.popitem(last=False)


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _host_key(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if parts.port else host


def _clean_params(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if params is None:
        return None
    cleaned: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        cleaned[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return cleaned


def _not_modified(response: HttpResponse, cached: _CachedPage | None) -> HttpResponse:
    return HttpResponse(status=304, url=response.url, headers=cached.headers if cached else response.headers,
                        content=cached.content if cached else b"", elapsed_s=response.elapsed_s, not_modified=True)


def _status_error(method: str, response: HttpResponse, retry_after: float | None) -> HttpStatusError:
    status = response.status
    detail = _error_detail(response.content)
    message = f"{method} {safe_url(response.url)}: HTTP {status}" + (f" ({detail})" if detail else "")
    common: dict[str, Any] = {"url": response.url, "status": status, "body": response.content,
                              "headers": dict(response.headers)}
    if status == 429:
        return RateLimited(message, retry_after=retry_after, **common)
    if status in (401, 402, 403):
        return Blocked(message, **common)
    if status >= 500:
        return ServerError(message, **common)
    return ClientError(message, **common)


def _error_detail(body: bytes) -> str:
    """A short reason from the usual error envelopes (Apify, Google, Firecrawl), never the whole body."""
    try:
        data = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return ""
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        kind = error.get("type") or error.get("status") or ""
        message = error.get("message") or ""
        return f"{kind}: {message}".strip(": ")[:300]
    if isinstance(error, str):
        return error[:300]
    return ""


@contextmanager
def http_client(**kwargs: Any) -> Iterator[HttpClient]:
    """``with http_client(budgets=...) as http:``: a client that is closed afterwards."""
    client = HttpClient(**kwargs)
    try:
        yield client
    finally:
        client.close()
