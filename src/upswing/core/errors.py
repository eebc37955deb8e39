"""Errors that services raise and the API/CLI translate for people."""

from __future__ import annotations


class UpswingError(Exception):
    """Base for errors a user can act on."""


class NotFoundError(UpswingError):
    pass


class ConflictError(UpswingError):
    pass


class PermissionDeniedError(UpswingError):
    pass


class ValidationFailedError(UpswingError):
    def __init__(self, message: str, errors: list[dict[str, object]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []
