"""The README keeps up with the code: every setting and every command is documented there."""

from __future__ import annotations

import pytest
import typer.main
from pydantic_settings import BaseSettings

from dropwire.cli import app
from shared import settings
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.unit

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def _settings_classes() -> list[type[BaseSettings]]:
    return [
        obj
        for obj in vars(settings).values()
        if isinstance(obj, type) and issubclass(obj, BaseSettings) and obj.__name__.endswith("Settings")
    ]


def test_every_setting_is_in_the_configuration_table() -> None:
    """Each DROPWIRE_* variable any settings class reads has a row in the README's table."""
    variables = {f"DROPWIRE_{name.upper()}" for cls in _settings_classes() for name in cls.model_fields}
    assert variables
    missing = sorted(v for v in variables if f"| `{v}` |" not in README)
    assert missing == []


def test_every_command_is_documented() -> None:
    """Each top-level ``dropwire`` command is named in the README."""
    click_app = typer.main.get_command(app)
    names = sorted(click_app.commands)  # type: ignore[attr-defined]
    assert "parse" in names and "run" in names
    missing = [name for name in names if f"dropwire {name}" not in README]
    assert missing == []
