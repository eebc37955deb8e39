"""Error reporting to Sentry, when ``UPSWING_SENTRY_DSN`` is set, with personal data scrubbed before it leaves.

``init_sentry`` is called by the API app (``create_app``), ``upswing serve`` (its embedded task runner) and
``upswing worker`` (Celery). Environment and release come from the settings (release: ``UPSWING_RELEASE`` or
the package version). The SDK sends no default PII (``send_default_pii=False``: no IP address, no cookies, no
user), no local variables of stack frames (they hold leads), and every event passes ``scrub_event`` first:

* messages, exception values, log entries, breadcrumbs, tags and extras are masked with ``core.logging``'s
  ``mask_value`` / ``mask_text`` (e-mail addresses, phone numbers, SSNs, query-string values; the values of PII
  keys such as ``email``, ``first_name``, ``address`` or a search's ``q`` are redacted);
* the request keeps its method and route; its URL and query string are masked, its body masked key by key, its
  cookies dropped, and of its headers only harmless ones kept (no ``Authorization``, ``Cookie``, API keys);
* the event is tagged with the request id (``X-Request-ID``), so a report leads to the request's log lines.
"""

from __future__ import annotations

import warnings
from typing import Any, cast

from upswing import __version__
from upswing.core.logging import REDACTED, mask_text, mask_value, redact_query
from upswing.core.request_id import current_request_id
from upswing.settings import Settings

#: Request headers kept on an event (everything else is dropped: credentials, cookies, forwarded addresses).
_KEPT_HEADERS = frozenset({"accept", "accept-encoding", "content-type", "content-length", "host", "user-agent",
                           "x-request-id", "idempotency-key"})


def _mask_request(request: dict[str, Any]) -> dict[str, Any]:
    masked: dict[str, Any] = {key: request[key] for key in ("method",) if key in request}
    if request.get("url"):
        masked["url"] = mask_text(str(request["url"]))
    if request.get("query_string"):
        masked["query_string"] = redact_query(str(request["query_string"]))
    headers = request.get("headers")
    if isinstance(headers, dict):
        masked["headers"] = {name: mask_text(str(value)) for name, value in headers.items()
                             if name.lower() in _KEPT_HEADERS}
    if "data" in request:
        data = request["data"]
        masked["data"] = mask_value(data) if isinstance(data, dict | list | str) else REDACTED
    return masked  # cookies and env are not kept


def _mask_exception(exception: dict[str, Any]) -> dict[str, Any]:
    values = []
    for value in exception.get("values") or []:
        value = dict(value)
        if isinstance(value.get("value"), str):
            value["value"] = mask_text(value["value"])
        stacktrace = value.get("stacktrace")
        if isinstance(stacktrace, dict):  # local variables are not sent, but strip any a plugin added
            value["stacktrace"] = {**stacktrace, "frames": [
                {key: item for key, item in frame.items() if key != "vars"}
                for frame in stacktrace.get("frames") or []]}
        values.append(value)
    return {**exception, "values": values}


def _mask_breadcrumbs(breadcrumbs: Any) -> Any:
    if isinstance(breadcrumbs, dict):
        return {**breadcrumbs, "values": [_mask_breadcrumb(crumb) for crumb in breadcrumbs.get("values") or []]}
    if isinstance(breadcrumbs, list):
        return [_mask_breadcrumb(crumb) for crumb in breadcrumbs]
    return breadcrumbs


def _mask_breadcrumb(crumb: dict[str, Any]) -> dict[str, Any]:
    crumb = dict(crumb)
    if isinstance(crumb.get("message"), str):
        crumb["message"] = mask_text(crumb["message"])
    if "data" in crumb:
        crumb["data"] = mask_value(crumb["data"])
    return crumb


def scrub_event(event: dict[str, Any], _hint: Any = None) -> dict[str, Any]:
    """``before_send``: the event with personal data masked and credentials dropped (see the module's doc)."""
    event = dict(event)
    if isinstance(event.get("message"), str):
        event["message"] = mask_text(event["message"])
    if isinstance(event.get("logentry"), dict):
        entry = dict(event["logentry"])
        for key in ("message", "formatted"):
            if isinstance(entry.get(key), str):
                entry[key] = mask_text(entry[key])
        if "params" in entry:
            entry["params"] = mask_value(entry["params"])
        event["logentry"] = entry
    if isinstance(event.get("exception"), dict):
        event["exception"] = _mask_exception(event["exception"])
    if isinstance(event.get("threads"), dict):
        event["threads"] = _mask_exception(event["threads"])
    if "breadcrumbs" in event:
        event["breadcrumbs"] = _mask_breadcrumbs(event["breadcrumbs"])
    if isinstance(event.get("request"), dict):
        event["request"] = _mask_request(event["request"])
    for key in ("extra", "tags", "contexts"):
        if isinstance(event.get(key), dict):
            event[key] = mask_value(event[key])
    if isinstance(event.get("transaction"), str):
        event["transaction"] = mask_text(event["transaction"])
    user = event.pop("user", None)
    if isinstance(user, dict) and user.get("id") is not None:
        event["user"] = {"id": str(user["id"])}  # an opaque id at most; never a name, address or IP
    request_id = current_request_id()
    if request_id is not None:
        event["tags"] = {**(event.get("tags") or {}), "request_id": request_id}
    return event


def init_sentry(settings: Settings, *, transport: Any = None) -> bool:
    """Start reporting to Sentry when a DSN is set (``transport``: tests capture events in memory). Returns
    whether it is on."""
    if settings.sentry_dsn is None and transport is None:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.fastapi import FastApiIntegration
    from sentry_sdk.integrations.starlette import StarletteIntegration

    dsn = settings.sentry_dsn.get_secret_value() if settings.sentry_dsn else "https://public@sentry.invalid/1"
    options: dict[str, Any] = {"transport": transport} if transport is not None else {}
    with warnings.catch_warnings():  # 2.x announces send_default_pii's successor (3.x's data_collection)
        warnings.simplefilter("ignore", DeprecationWarning)
        sentry_sdk.init(
            dsn=dsn, environment=settings.environment, release=settings.release or f"upswing@{__version__}",
            send_default_pii=False, include_local_variables=False, max_request_body_size="medium",
            traces_sample_rate=settings.sentry_traces_sample_rate, before_send=cast(Any, scrub_event),
            before_send_transaction=cast(Any, scrub_event),
            before_breadcrumb=lambda crumb, _hint: cast(Any, _mask_breadcrumb(dict(crumb))),
            auto_enabling_integrations=False,
            integrations=[StarletteIntegration(transaction_style="url"),
                          FastApiIntegration(transaction_style="url"), CeleryIntegration(monitor_beat_tasks=False)],
            **options)
    return True
