"""Each Celery app runs the enrich handler it was given, whatever apps the process made before."""

from __future__ import annotations

import pytest

from services.enrich.task import register
from shared.celery_app import TASK_ENRICH, create_app

pytestmark = [pytest.mark.unit]


class Named:
    """A stand-in handler: registering a task only binds it."""

    def __init__(self, name: str) -> None:
        self.name = name


def handler_of(app) -> list[str]:
    closure = app.tasks[TASK_ENRICH].run.__closure__ or ()
    return [cell.cell_contents.name for cell in closure if isinstance(cell.cell_contents, Named)]


def test_every_app_keeps_its_own_handler() -> None:
    """Celery shares a decorated task with every app made later unless told not to: a later app (a
    test's, or a second stack in one process) then ran an earlier app's handler, publisher and all
    (which one depends on the order of a set, so several apps are made)."""
    names = [f"app{n}" for n in range(6)]
    apps = []
    for name in names:
        app = create_app(name, "redis://127.0.0.1:6379/15")
        register(app, Named(name))  # type: ignore[arg-type]
        app.finalize()
        apps.append(app)
    assert [handler_of(app) for app in apps] == [[name] for name in names]
