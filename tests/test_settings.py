"""Settings in one place: every environment variable the app reads is declared in zoo.settings (name, default,
meaning), read through it when used, and shown in README's table, which is generated from it."""
from __future__ import annotations

import ast
import re

import pytest

from tests.conftest import REPO
from zoo import settings

APP_CODE = [p for d in ("zoo", "tasks", "models", "playground") for p in (REPO / d).rglob("*.py")] + [REPO / "app.py"]


def _env_reads(tree: ast.AST) -> list[int]:
    """Lines that read os.environ (get, [], in) or call os.getenv: writes and setdefault for other libraries
    are not reads of a playground setting."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if node.func.attr == "get" and isinstance(owner, ast.Attribute) and owner.attr == "environ":
                lines.append(node.lineno)
            if node.func.attr == "getenv":
                lines.append(node.lineno)
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and \
                isinstance(node.value, ast.Attribute) and node.value.attr == "environ":
            lines.append(node.lineno)
    return lines


def test_only_the_settings_module_reads_the_environment():
    readers = {str(p.relative_to(REPO)): _env_reads(ast.parse(p.read_text())) for p in APP_CODE}
    readers = {k: v for k, v in readers.items() if v}
    assert set(readers) == {"zoo/settings.py"}, readers


def test_every_setting_the_code_asks_for_is_declared():
    asked = set()
    for p in APP_CODE:
        asked |= set(re.findall(r'\b(?:get|raw)\("([A-Z_]+)"\)', p.read_text()))
        asked |= set(re.findall(r'Share\("([A-Z_]+)"', p.read_text()))
    assert asked and asked <= set(settings.TABLE), asked - set(settings.TABLE)
    unused = set(settings.TABLE) - asked
    assert not unused, f"declared but never read: {unused}"


def test_readme_table_is_the_settings_table():
    readme = (REPO / "README.md").read_text()
    assert settings.markdown() in readme


def test_values_are_read_when_used_and_a_bad_one_is_a_sentence(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_MAX_LIVE", "3")
    assert settings.get("PLAYGROUND_MAX_LIVE") == 3
    monkeypatch.setenv("PLAYGROUND_MAX_LIVE", "")
    assert settings.get("PLAYGROUND_MAX_LIVE") == settings.TABLE["PLAYGROUND_MAX_LIVE"].default
    monkeypatch.setenv("ZOO_MAX_SIDE", "99999")
    assert settings.get("ZOO_MAX_SIDE") == 16_384  # never more
    monkeypatch.setenv("PLAYGROUND_MAX_LIVE", "eight")
    with pytest.raises(settings.SettingError, match="PLAYGROUND_MAX_LIVE must be a whole number, not 'eight'"):
        settings.check()
    monkeypatch.setenv("PLAYGROUND_MAX_LIVE", "0")
    with pytest.raises(settings.SettingError, match="at least 1"):
        settings.get("PLAYGROUND_MAX_LIVE")
    monkeypatch.delenv("PLAYGROUND_MAX_LIVE")
    monkeypatch.setenv("ZOO_BACKEND", "kubernetes")
    with pytest.raises(settings.SettingError, match="ZOO_BACKEND must be one of 'local', 'ray'"):
        settings.check()
