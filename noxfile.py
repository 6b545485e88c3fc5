"""Test sessions: ``python3 -m nox`` runs them all, as CI does.

- ``lint``: ruff and mypy --strict.
- ``tests``: the suite against the built wheel, on PostgreSQL 15, 16 and 18.
- ``django42`` and ``django6``: the Django-facing tests with the oldest and newest
  supported Django.
"""

from __future__ import annotations

import functools
import glob
import os
import shutil
import tempfile
from pathlib import Path

import nox

ROOT = Path(__file__).parent
PG_MATRIX = os.environ.get("DBROLE_SWITCH_TEST_PG", "15,16,18")

nox.options.sessions = ["lint", "tests", "django42", "django6"]
nox.options.reuse_existing_virtualenvs = False
# Outside CI a missing Python 3.12 skips the django6 session; in CI it fails.
nox.options.error_on_missing_interpreters = bool(os.environ.get("CI"))


def _python(version: str) -> str | None:
    """A CPython *version* interpreter on PATH or under pyenv, if any."""
    found = shutil.which(f"python{version}")
    if found and os.access(found, os.X_OK) and "shims" not in found:
        return found

    pyenv_root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates = sorted(
        glob.glob(f"{pyenv_root}/versions/{version}.*/bin/python{version}")
    )
    return candidates[-1] if candidates else None


@functools.cache
def _wheel() -> str:
    """Build the wheel once per nox run; every session tests that wheel."""
    outdir = tempfile.mkdtemp(prefix="dbrole-switch-wheel-")
    nox.command.run(
        ["python3", "-m", "pip", "wheel", "--no-deps", "-q", "-w", outdir, str(ROOT)],
        external=True,
    )
    (wheel,) = glob.glob(f"{outdir}/*.whl")
    return wheel


# What the Django-version sessions run: the tests that drive Django itself.
DJANGO_TESTS = [
    "test_settings.py",
    "test_switch.py",
    "test_checks.py",
    "test_shell.py",
    "test_demo.py",
]


def _run_tests(session: nox.Session, pg: str, files: list[str] | None = None) -> None:
    session.install(f"dbrole-switch[test] @ file://{_wheel()}")
    session.chdir(ROOT / "tests")
    session.run(
        "python",
        "-m",
        "pytest",
        *(session.posargs or files or []),
        env={"DBROLE_SWITCH_TEST_PG": pg},
    )


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check, ruff format --check, mypy --strict."""
    session.install("-e", f"{ROOT}[test,dev]")
    session.chdir(ROOT)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy", "--strict", "dbrole_switch", "benchmarks")
    session.run(
        "mypy",
        "--strict",
        "--allow-untyped-defs",
        "--allow-incomplete-defs",
        "tests",
    )


@nox.session
def tests(session: nox.Session) -> None:
    """The whole suite on PostgreSQL 15, 16 and 18 (DBROLE_SWITCH_TEST_PG)."""
    _run_tests(session, PG_MATRIX)


@nox.session
def django42(session: nox.Session) -> None:
    """The Django-facing tests with Django 4.2, on one PostgreSQL."""
    session.install(f"dbrole-switch[test] @ file://{_wheel()}", "Django>=4.2,<5")
    _run_tests(session, PG_MATRIX.split(",")[-1], DJANGO_TESTS)


@nox.session(python=_python("3.12") or _python("3.13") or "3.12")
def django6(session: nox.Session) -> None:
    """The Django-facing tests with Django 6 on Python 3.12+, on one PostgreSQL."""
    session.install(f"dbrole-switch[test] @ file://{_wheel()}", "Django>=6,<7")
    _run_tests(session, PG_MATRIX.split(",")[0], DJANGO_TESTS)
