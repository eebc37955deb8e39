"""The one failure every transport raises, so the sender task treats e-mail and webhooks alike."""

from __future__ import annotations

__all__ = ["SendFailed"]


class SendFailed(Exception):
    """One attempt failed. ``permanent``: retrying cannot help (bad address, 400, 401/403 auth, 410 Gone, a refused
    target, not configured). ``retry_after``: seconds the provider asked us to wait (429 ``Retry-After`` or
    ``x-sib-ratelimit-reset``), else None. ``status``: the HTTP or SMTP reply code when there was one."""

    def __init__(self, message: str, *, permanent: bool, retry_after: float | None = None,
                 status: int | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after
        self.status = status

    def __repr__(self) -> str:
        return (f"SendFailed({str(self)!r}, permanent={self.permanent}, retry_after={self.retry_after}, "
                f"status={self.status})")
