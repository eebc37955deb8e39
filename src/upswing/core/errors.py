"""Errors that services raise and the API/CLI translate for people."""

from __future__ import annotations


class UpswingError(Exception):
    """Base for errors a user can act on."""


class NotFoundError(UpswingError):
    pass


class ConflictError(UpswingError):
    @property
    def body(self) -> dict[str, object]:
        """Fields the API adds to the error's JSON next to ``detail`` (a subclass may carry some)."""
        return {}


class PermissionDeniedError(UpswingError):
    pass


class ValidationFailedError(UpswingError):
    def __init__(self, message: str, errors: list[dict[str, object]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


class PreconditionFailedError(UpswingError):
    """The record changed since the client read it (its ``If-Match`` names another version): 412."""
