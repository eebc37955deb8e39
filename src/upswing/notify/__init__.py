"""Channels and transports: how a notification leaves Upswing (e-mail through Brevo or SMTP, signed webhooks,
the in-app live stream).

This package delivers what it is given and imports no domain. The alert domain builds the message, calls a
transport once per attempt, records the provider id and owns retries and backoff, reading the
:class:`~upswing.notify.errors.SendFailed` a transport raises (``permanent``, ``retry_after``); the transports
never sleep or retry.
"""
