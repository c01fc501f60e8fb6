"""`.env.example` is what an operator copies: it must list every variable the settings and the
compose file read, and nothing they do not."""

import ast
import re

from tests.config.process import ROOT


def example_names() -> set[str]:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def settings_names() -> set[str]:
    """Every `env("NAME", …)` / `env.int("NAME", …)` … in config/settings.py."""
    tree = ast.parse((ROOT / "config" / "settings.py").read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)):
            continue
        function = node.func
        is_env = (isinstance(function, ast.Name) and function.id == "env") or (
            isinstance(function, ast.Attribute)
            and isinstance(function.value, ast.Name)
            and function.value.id == "env"
        )
        if is_env and isinstance(node.args[0].value, str):
            names.add(node.args[0].value)
    return names


def compose_names() -> set[str]:
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text))


def test_every_variable_the_settings_read_is_in_the_example():
    assert settings_names() - example_names() == set()


def test_every_variable_the_compose_file_reads_is_in_the_example():
    assert compose_names() - example_names() == set()


def test_the_example_lists_nothing_that_nobody_reads():
    assert example_names() - settings_names() - compose_names() == set()
