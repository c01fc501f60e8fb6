"""The apps depend one way (ARCHITECTURE.md): chats → media → wallets → accounts, payments →
wallets, and chats and media → catalog. A lower app never imports a higher one, not even lazily
inside a function, and its models never point at a higher app's; it offers a hook instead.

Read from the source with `ast`, so an import inside a function counts as much as one at the
top. Migrations are history and are not read: they name the models as they once were.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Each app and the apps it may import.
MAY_IMPORT = {
    "accounts": set(),
    "catalog": set(),
    "wallets": {"accounts"},
    "payments": {"wallets", "accounts"},
    "media": {"catalog", "wallets", "accounts"},
    "chats": {"media", "catalog", "wallets", "accounts"},
    # The switch-over import writes every app's rows; nothing imports it.
    "legacy": {"chats", "media", "catalog", "payments", "wallets", "accounts"},
}
# config is the project around the apps (settings, URLs, ASGI); apps may use only these of its
# modules, which import no app.
SHARED_CONFIG = {
    "config.admin",
    "config.api",
    "config.celery",
    "config.errors",
    "config.input",
    "config.net",
    "config.threads",
}
RELATIONS = {"ForeignKey", "OneToOneField", "ManyToManyField"}


def _modules(path: Path) -> list[tuple[str, int]]:
    """The first-party modules `path` imports, and the models its relations name, with lines."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module, node.lineno))
            # `from config import threads` names the module `config.threads`.
            found += [(f"{node.module}.{alias.name}", node.lineno) for alias in node.names]
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) in RELATIONS
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            # models.ForeignKey("chats.Message") points at an app as surely as an import.
            found.append((node.args[0].value, node.lineno))
    return found


def back_arrows(root: Path = ROOT) -> list[str]:
    apps = set(MAY_IMPORT)
    arrows = []
    for app, allowed in MAY_IMPORT.items():
        for path in sorted((root / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for module, line in _modules(path):
                parts = module.split(".")
                if parts[0] == "config":
                    # `from config import threads` also reads as the bare package: judged by its names.
                    back = len(parts) > 1 and ".".join(parts[:2]) not in SHARED_CONFIG
                else:
                    back = parts[0] in apps and parts[0] != app and parts[0] not in allowed
                arrow = f"{path.relative_to(root)}:{line}"
                if back and not any(found.startswith(f"{arrow} ") for found in arrows):
                    arrows.append(f"{arrow} imports {module}")
    for module_name in SHARED_CONFIG:
        path = root / f"{module_name.replace('.', '/')}.py"
        for module, line in _modules(path):
            if module.split(".")[0] in apps:
                arrows.append(f"{path.relative_to(root)}:{line} imports {module}")
    return arrows


def test_no_app_imports_an_app_above_it():
    assert back_arrows() == []


@pytest.mark.parametrize(
    ("app", "line"),
    [
        ("media", "from chats.models import Message"),
        ("wallets", "def name():\n    from catalog.models import AIModel\n"),
        ("accounts", "import wallets.services"),
        ("media", "link = models.ForeignKey('chats.Chat', on_delete=models.CASCADE)"),
        ("wallets", "from config import urls"),
    ],
)
def test_one_back_arrow_is_caught(tmp_path, app, line):
    for name in MAY_IMPORT:
        (tmp_path / name).mkdir()
    for module in SHARED_CONFIG:
        (tmp_path / f"{module.replace('.', '/')}.py").parent.mkdir(exist_ok=True)
        (tmp_path / f"{module.replace('.', '/')}.py").touch()
    (tmp_path / app / "module.py").write_text(line + "\n")

    assert len(back_arrows(tmp_path)) == 1
