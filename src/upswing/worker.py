"""The Celery entry point for ``celery -A upswing.worker worker -Q upswing`` (``upswing worker`` does the same).

Wiring only: it loads every module that declares tasks and exposes the application the task layer builds.
"""

from __future__ import annotations

from typing import Any

from upswing.core import tasks


def __getattr__(name: str) -> Any:
    # Built on first access, so that importing this module reads no settings.
    if name in ("app", "celery"):
        tasks.load_task_modules()
        return tasks.get_celery_app()
    raise AttributeError(name)
