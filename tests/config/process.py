"""Runs Django in a fresh process with a chosen environment: settings are read at import, so
configurations (production, an unreachable database) are tested the way they are deployed."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Set by this test session (the browser fixture) or by the caller's shell; a fresh process
# must start from the deployment's point of view.
_NOT_INHERITED = ("DEBUG", "SECRET_KEY", "SITE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")


def run_python(*args: str, **environ: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", **environ)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
