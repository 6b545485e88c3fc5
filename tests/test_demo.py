"""``dbrole-switch demo`` and the example project it runs, as a user runs them.

The demo is started as a subprocess through the installed ``dbrole-switch``
script, so a wheel that lacks the example project fails here.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import psycopg.errors
import pytest
from conftest import Server, TestDatabase

from dbrole_switch.demo import example_dir

SCRIPT = str(Path(sys.executable).with_name("dbrole-switch"))
STEP = re.compile(r"^(PASS|FAIL)  (.+)  \((\d+\.\d)s\)$")

EMBEDDED_STEPS = [
    r"start PostgreSQL \d+ \(.+\)",
    r"create the privileged role demo_app and the database demo",
    r"migrate the example project as demo_app",
    r"provision the read-only role demo_ro",
    r"read as the read-only role",
    r"a write in read-only mode is refused",
    r"enable_writes\(password=\.\.\.\)",
    r"a write after enable_writes\(\) succeeds",
    r"disable_writes\(\)",
    r"a write after disable_writes\(\) is refused",
    r"verify demo_ro",
    r"clean up",
]
STEP_NAMES = [
    "server",
    "setup",
    "migrate",
    "provision",
    "read",
    "write-refused",
    "enable-writes",
    "write",
    "disable-writes",
    "write-refused-again",
    "verify",
    "cleanup",
]


def _env(database_url: str | None = None) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "DJANGO_", "PG"))
    }
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    return env


def _demo(
    *args: str, database_url: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SCRIPT, "demo", *args],
        env=_env(database_url),
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


def _steps(stdout: str) -> list[tuple[str, str, list[str]]]:
    """``(PASS|FAIL, title, detail lines)`` for each step printed."""
    steps: list[tuple[str, str, list[str]]] = []
    for line in stdout.splitlines():
        match = STEP.match(line)
        if match:
            steps.append((match.group(1), match.group(2), []))
        elif line.startswith("      ") and steps:
            steps[-1][2].append(line.strip())
    return steps


def _details(steps: list[tuple[str, str, list[str]]], title: str) -> str:
    return "\n".join(
        line
        for _, found, lines in steps
        if re.fullmatch(title, found)
        for line in lines
    )


def _data_dir(steps: list[tuple[str, str, list[str]]]) -> Path:
    match = re.search(r"data in (\S+),", _details(steps, EMBEDDED_STEPS[0]))
    assert match, steps[0]
    return Path(match.group(1))


@pytest.mark.slow
def test_demo_on_a_throwaway_server_passes_every_step_and_cleans_up() -> None:
    started = time.perf_counter()
    done = _demo()
    elapsed = time.perf_counter() - started

    steps = _steps(done.stdout)

    assert done.returncode == 0, done.stdout + done.stderr
    assert [status for status, _, _ in steps] == ["PASS"] * len(EMBEDDED_STEPS)
    for (_, title, _), expected in zip(steps, EMBEDDED_STEPS, strict=True):
        assert re.fullmatch(expected, title), (title, expected)
    assert "connected as demo_ro" in _details(steps, "read as the read-only role")
    assert re.search(r"\d+ books, e\.g\. \"", _details(steps, EMBEDDED_STEPS[4]))
    refused = _details(steps, EMBEDDED_STEPS[5])
    assert "demo_ro" in refused and "enable_writes" in refused
    assert "connected as demo_app" in _details(steps, EMBEDDED_STEPS[6])
    assert re.search(r"created Tag #\d+", _details(steps, EMBEDDED_STEPS[7]))
    assert "connected as demo_ro" in _details(steps, EMBEDDED_STEPS[8])
    assert "enable_writes" in _details(steps, EMBEDDED_STEPS[9])
    assert re.search(r"^0 errors", _details(steps, "verify demo_ro"), re.M)
    assert done.stdout.splitlines()[-1].startswith(f"All {len(EMBEDDED_STEPS)} steps")
    assert not _data_dir(steps).exists()
    assert elapsed < 60, f"the demo took {elapsed:.1f}s"


@pytest.mark.slow
def test_demo_on_database_url_as_a_non_superuser_leaves_nothing_behind(
    pg_server: Server, db: TestDatabase
) -> None:
    # As on a managed service: the admin may create roles and databases, no more.
    password = secrets.token_urlsafe(12)
    admin = db.role("admin", password=password, attrs="CREATEROLE CREATEDB")

    done = _demo("--json", database_url=db.url_for(admin, password))

    document = json.loads(done.stdout)

    assert done.returncode == 0, done.stdout + done.stderr
    assert document["ok"] is True
    assert [step["name"] for step in document["steps"]] == STEP_NAMES
    assert all(step["ok"] for step in document["steps"])
    assert not re.search(r"://[^/@\s:]+:[^@\s]+@", done.stdout)
    suffix = re.search(r"demo_ro_(\w+)", document["steps"][3]["title"])
    assert suffix
    with psycopg.connect(pg_server.url) as conn:
        left = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %(db)s "
            "UNION ALL SELECT rolname FROM pg_roles WHERE rolname LIKE %(role)s",
            {"db": f"%demo_{suffix[1]}", "role": f"demo_%_{suffix[1]}"},
        ).fetchall()
    assert left == []


@pytest.mark.slow
def test_demo_keep_leaves_a_server_with_a_read_only_shell() -> None:
    done = _demo("--keep")

    steps = _steps(done.stdout)
    urls = dict(re.findall(r"^  (DATABASE_\w*URL)=(\S+)$", done.stdout, re.M))
    (admin_url,) = re.findall(r"^  superuser, for [^:]*: (\S+)$", done.stdout, re.M)
    lines = done.stdout.splitlines()
    shell = lines[lines.index(next(x for x in lines if "read-only shell" in x)) + 1]
    stop = lines[-1].strip()

    try:
        assert done.returncode == 0, done.stdout + done.stderr
        assert [title for _, title, _ in steps][-1] == "verify demo_ro"
        assert urlsplit(urls["DATABASE_URL"]).password is None
        assert urlsplit(urls["DATABASE_READ_ONLY_URL"]).username == "demo_ro"
        ro_url = urls["DATABASE_READ_ONLY_URL"]
        with psycopg.connect(ro_url, autocommit=True) as conn:
            books = conn.execute("SELECT count(*) FROM library_book").fetchone()
            # Past the belt, the privileges still refuse.
            conn.execute("SET default_transaction_read_only = off")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("INSERT INTO library_tag (name) VALUES ('x')")
        assert books is not None and books[0] > 0
        with psycopg.connect(admin_url, autocommit=True) as conn:
            superuser = conn.execute(
                "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
            ).fetchone()
        assert superuser == (True,)

        code = "from django.db import connection; c = connection.cursor(); "
        code += "c.execute('SELECT current_user'); print(c.fetchone()[0])"
        # The printed line is for a POSIX shell: variable assignments, then
        # manage.py shell.
        ran = subprocess.run(
            ["sh", "-c", f'{shell.strip()} -c "$0"', code],
            capture_output=True,
            text=True,
            timeout=120,
            env=_env(),
            stdin=subprocess.DEVNULL,
        )
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.strip().splitlines()[-1] == "demo_ro"
    finally:
        subprocess.run(["sh", "-c", stop], capture_output=True, timeout=60)

    assert not _data_dir(steps).exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(urls["DATABASE_READ_ONLY_URL"], connect_timeout=5)


@pytest.mark.slow
def test_demo_interrupted_with_ctrl_c_stops_the_server_and_removes_its_files() -> None:
    child = subprocess.Popen(
        [SCRIPT, "demo"],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    assert child.stdout is not None
    seen = [child.stdout.readline() for _ in range(3)]
    child.send_signal(signal.SIGINT)
    rest, errors = child.communicate(timeout=120)

    steps = _steps("".join(seen) + rest)

    assert child.returncode == 1, rest + errors
    assert steps[0][0] == "PASS" and steps[1][0] == "PASS"
    assert steps[-1][:2] == ("PASS", "clean up")
    assert not _data_dir(steps).exists()
    assert "Aborted" in errors


def test_demo_against_an_unreachable_server_fails_in_one_line() -> None:
    done = _demo(database_url="postgresql://nobody@127.0.0.1:1/nothing")

    steps = _steps(done.stdout)

    assert done.returncode == 1
    assert steps == [
        ("FAIL", "use the server at nobody@127.0.0.1:1/nothing", steps[0][2]),
    ]
    assert len(steps[0][2]) == 1 and "cannot connect as nobody@" in steps[0][2][0]
    assert "Traceback" not in done.stderr


def test_example_project_has_its_migrations_and_both_kinds_of_key(
    db: TestDatabase,
) -> None:
    env = dict(_env(db.url), PYTHONDONTWRITEBYTECODE="1")
    project = example_dir()

    check = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    columns = db.execute(
        "SELECT c.relname, a.attidentity, pg_get_serial_sequence(c.relname, 'id') "
        "FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid "
        "WHERE a.attname = 'id' AND c.relname LIKE 'library_%' ORDER BY 1"
    )

    assert check.returncode == 0, check.stdout + check.stderr
    assert migrate.returncode == 0, migrate.stderr
    kinds = {name: (identity, sequence) for name, identity, sequence in columns}
    assert kinds["library_author"][0] == "d"
    assert kinds["library_book"][0] == "d"
    assert kinds["library_tag"] == ("", "public.library_tag_id_seq")
    constraints = db.execute(
        "SELECT conrelid::regclass::text, confrelid::regclass::text "
        "FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text "
        "LIKE 'library_%' ORDER BY 1, 2"
    )
    assert constraints == [
        ("library_book", "library_author"),
        ("library_book_tags", "library_book"),
        ("library_book_tags", "library_tag"),
    ]


def test_demo_without_createdb_fails_clearly_and_undoes_its_role(
    db: TestDatabase, needs_password_auth: None
) -> None:
    password = secrets.token_urlsafe(12)
    admin = db.role("admin", password=password, attrs="CREATEROLE")

    done = _demo(database_url=db.url_for(admin, password))

    steps = _steps(done.stdout)
    left = db.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE 'demo_%'")

    assert done.returncode == 1
    assert [(status, title.split()[0]) for status, title, _ in steps] == [
        ("PASS", "use"),
        ("FAIL", "create"),
        ("PASS", "clean"),
    ]
    assert "permission denied to create database" in steps[1][2][0]
    assert "CREATEDB" in steps[1][2][0]
    assert left == []
    assert "Traceback" not in done.stderr


def test_demo_keep_with_json_is_a_usage_error() -> None:
    done = _demo("--keep", "--json")

    assert done.returncode == 2
    assert "--keep and --json cannot be used together" in done.stderr
    assert done.stdout == ""
