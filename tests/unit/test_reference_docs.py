"""The docs site's reference pages are generated from the code and kept in step with it: a stale page
fails here, and each page covers what it documents (every setting, command, metric and alert)."""

from __future__ import annotations

import importlib.util
import re
import sys
from types import ModuleType

import pytest
import typer.main
import yaml

from dropwire.cli import app
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.unit

REFERENCE = REPO_ROOT / "docs" / "reference"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_reference", REPO_ROOT / "scripts" / "gen_reference.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen_reference", module)
    spec.loader.exec_module(module)
    return module


GEN = _generator()


def _page(name: str) -> str:
    return (REFERENCE / name).read_text(encoding="utf-8")


def test_no_generated_page_is_stale() -> None:
    """Each page in docs/reference/ is exactly what the generator renders from the code now."""
    rendered = GEN.render()
    assert set(rendered) == {"cli.md", "settings.md", "metrics.md", "alerts.md"}
    stale = [name for name, text in rendered.items() if _page(name) != text]
    assert stale == [], "run: python scripts/gen_reference.py"


def test_a_changed_page_is_reported_stale(tmp_path) -> None:
    """The check notices a page edited by hand, and a page missing."""
    for name, text in GEN.render().items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert GEN.stale(tmp_path) == []
    (tmp_path / "settings.md").write_text(_page("settings.md") + "\nhand edit\n", encoding="utf-8")
    (tmp_path / "alerts.md").unlink()
    assert sorted(GEN.stale(tmp_path)) == ["alerts.md", "settings.md"]


def test_every_setting_is_in_the_settings_page() -> None:
    """Each DROPWIRE_* variable any settings class reads has a row, with its default."""
    page = _page("settings.md")
    classes = GEN.settings_classes()
    assert {cls.__name__ for cls in classes} >= {"SpoolSettings", "DatabaseSettings", "ConsoleSettings"}
    variables = {f"DROPWIRE_{name.upper()}" for cls in classes for name in cls.model_fields}
    missing = sorted(v for v in variables if f"| `{v}` |" not in page)
    assert missing == []
    assert "| `DROPWIRE_BATCH_SIZE` | int (> 0) | `50` |" in page


def test_every_command_and_option_is_documented() -> None:
    """Each ``dropwire`` command and subcommand has a heading, and each of its options a row."""
    page = _page("cli.md")

    def walk(command, path):
        yield path, command
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, f"{path} {name}")

    commands = list(walk(typer.main.get_command(app), "dropwire"))[1:]
    names = {path for path, _ in commands}
    assert {"dropwire parse", "dropwire run", "dropwire failed retry", "dropwire db upgrade"} <= names
    for path, command in commands:
        section = page.split(f"`{path}`\n", 1)
        assert len(section) == 2, path
        body = re.split(r"\n#+ `dropwire", section[1], maxsplit=1)[0]
        for param in command.params:
            label = f"`{param.opts[0]}`" if param.opts[0].startswith("-") else f"`{param.name.upper()}`"
            assert label in body, (path, label)


def test_every_metric_is_in_the_table_once() -> None:
    """The metrics page lists each family of the services and of the console exactly once."""
    from prometheus_client import CollectorRegistry

    from services.console.metrics import create_console_metrics
    from shared.metrics import create_metrics, describe

    page = _page("metrics.md")
    infos = describe(create_metrics()) + describe(create_console_metrics(CollectorRegistry()))  # type: ignore[arg-type]
    assert len(infos) > 20
    for info in infos:
        assert page.count(f"| `{info.name}` |") == 1, info.name


def test_alert_list_matches_the_rules() -> None:
    """Every alert in alerts.yml has a row with its `for` duration and severity, and a section."""
    page = _page("alerts.md")
    rows = {
        m.group(1): (m.group(2), m.group(3))
        for m in re.finditer(r"^\| `(Dropwire\w+)` \| (\w+) \| (\w+) \|", page, re.M)
    }
    alerts = REPO_ROOT / "deploy" / "prometheus" / "alerts.yml"
    rules = [r for g in yaml.safe_load(alerts.read_text(encoding="utf-8"))["groups"] for r in g["rules"]]
    assert rows == {r["alert"]: (r["for"], r["labels"]["severity"]) for r in rules}
    for rule in rules:
        assert f"\n## {rule['alert']}\n" in page
