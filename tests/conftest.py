"""Shared helpers: paths, the CLI as a subprocess, and the optional ../shared material."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SHARED = Path(os.environ.get("CLEANCORP_SHARED", ROOT.parent / "shared"))


def run_cli(*args: str, stdin: bytes | None = b"", timeout: float = 120, cwd: str | os.PathLike | None = None) -> subprocess.CompletedProcess:
    """Run `python -m cleancorp ARGS` as a user would, capturing bytes."""
    return subprocess.run(
        [sys.executable, "-m", "cleancorp", *args],
        input=stdin,
        capture_output=True,
        timeout=timeout,
        cwd=cwd,
    )


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is not present (shared sample material)")
    return SHARED


@pytest.fixture(scope="session")
def clean_lines() -> list[str]:
    """Every paragraph of the shipped clean sample."""
    lines: list[str] = []
    for path in sorted((FIXTURES / "clean").glob("*.txt")):
        lines += [ln for ln in path.read_text(encoding="utf-8").split("\n") if ln]
    return lines
