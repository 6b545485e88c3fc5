"""The ``provision``, ``drop`` and ``rotate-password`` commands, as a user runs them."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner, Result
from conftest import Server, TestDatabase
from psycopg import sql
from test_provision import PASSWORD, shop_database

from dbrole_switch.cli import main
from dbrole_switch.cli_role import COMMANDS
from dbrole_switch.connection import without_password
from dbrole_switch.provision import provision


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def quiet_logger() -> Iterator[None]:
    """``-v`` adds a handler to the package logger; take it away afterwards."""
    log = logging.getLogger("dbrole_switch")
    handlers, level = list(log.handlers), log.level
    yield
    log.handlers[:] = handlers
    log.setLevel(level)


def invoke(
    runner: CliRunner, db: TestDatabase, *args: str, stdin: str | None = None
) -> Result:
    return runner.invoke(
        main, list(args), input=stdin, env={"DATABASE_URL": db.url, "PGPASSWORD": None}
    )


def one_line_error(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def table(pg_server: Server) -> Iterator[TestDatabase]:
    """One database with one table, shared: every test uses roles of its own."""
    setup = "CREATE TABLE public.items (id serial PRIMARY KEY, name text)"
    with shop_database(pg_server, setup) as database:
        yield database


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_every_command_has_help_ending_with_an_example(
    runner: CliRunner, command: object
) -> None:
    name = command.name  # type: ignore[attr-defined]

    result = runner.invoke(main, [name, "--help"])

    assert result.exit_code == 0
    example = result.stdout.split("Example:", 1)
    assert len(example) == 2
    assert f"dbrole-switch {name} " in example[1].split("Options:")[0]


def test_provision_prints_what_changed_and_the_url_without_password(
    runner: CliRunner, table: TestDatabase
) -> None:
    role = table.role("ro")

    result = invoke(
        runner, table, "provision", role, "--password-stdin", stdin=PASSWORD
    )
    again = invoke(runner, table, "provision", role)

    assert result.exit_code == 0, result.stderr
    assert f"Role {role} created in database {table.name}:" in result.stdout
    assert "grant-select-tables: 1 table in schema public" in result.stdout
    url_line = [
        line for line in result.stdout.splitlines() if line.startswith("Read-only URL")
    ]
    assert len(url_line) == 1 and f"postgresql://{role}@" in url_line[0]
    assert PASSWORD not in result.stdout + result.stderr
    assert "Warning: PUBLIC may create temporary tables" in result.stderr
    assert again.exit_code == 0
    assert again.stdout.startswith(f"No changes: role {role} is already provisioned")


def test_generated_password_is_printed_once_and_works(
    runner: CliRunner, table: TestDatabase, needs_password_auth: None
) -> None:
    role = table.role("ro")

    result = invoke(runner, table, "provision", role, "--generate-password")

    assert result.exit_code == 0, result.stderr
    lines = [
        line for line in result.stdout.splitlines() if "DATABASE_READ_ONLY_URL=" in line
    ]
    assert len(lines) == 1
    url = lines[0].removeprefix("DATABASE_READ_ONLY_URL=")
    password = psycopg.conninfo.conninfo_to_dict(url)["password"]
    assert isinstance(password, str) and len(password) >= 24
    assert result.stdout.count(password) == 1 and password not in result.stderr
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (role,)


def test_json_is_one_document_without_secrets(
    runner: CliRunner, table: TestDatabase
) -> None:
    role = table.role("ro")

    result = invoke(
        runner, table, "provision", role, "--password-stdin", "--json", stdin=PASSWORD
    )

    document = json.loads(result.stdout)
    assert result.exit_code == 0
    assert document["command"] == "provision" and document["created"] is True
    assert {w["code"] for w in document["warnings"]} >= {"public-temp"}
    assert PASSWORD not in result.stdout and "SCRAM-SHA-256$" not in result.stdout
    assert result.stderr == ""


def test_json_refuses_a_generated_password(runner: CliRunner) -> None:
    result = runner.invoke(
        main, ["provision", "app_ro", "--json", "--generate-password"]
    )

    assert result.exit_code == 2
    assert "--password-stdin" in result.stderr


def test_dry_run_prints_masked_sql_and_creates_nothing(
    runner: CliRunner, table: TestDatabase
) -> None:
    role = table.role("ro")

    result = invoke(
        runner,
        table,
        "provision",
        role,
        "--dry-run",
        "--password-stdin",
        stdin=PASSWORD,
    )

    assert result.exit_code == 0, result.stderr
    statements = result.stdout.strip().split(";\n")
    assert statements[0].startswith(f'CREATE ROLE "{role}"')
    assert "PASSWORD '********'" in statements[0]
    assert PASSWORD not in result.stdout
    assert "nothing was changed" in result.stderr
    assert table.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]) == []


def test_verbose_shows_statements_masked(
    runner: CliRunner, table: TestDatabase, quiet_logger: None
) -> None:
    role = table.role("ro")

    result = invoke(
        runner, table, "provision", role, "-v", "--password-stdin", stdin=PASSWORD
    )

    assert result.exit_code == 0, result.stderr
    assert f'GRANT SELECT ON ALL TABLES IN SCHEMA "public" TO "{role}";' in (
        result.stderr
    )
    assert "PASSWORD '********'" in result.stderr
    assert PASSWORD not in result.stderr and "SCRAM-SHA-256$" not in result.stderr


def test_new_role_without_a_terminal_or_password_option(
    runner: CliRunner, table: TestDatabase
) -> None:
    role = table.role("ro")

    result = invoke(runner, table, "provision", role)

    assert result.exit_code == 1
    assert "--password-stdin" in one_line_error(result)
    assert table.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]) == []


def test_closed_stdin_while_reading_a_password(
    runner: CliRunner, table: TestDatabase
) -> None:
    role = table.role("ro")

    result = invoke(runner, table, "provision", role, "--password-stdin", stdin="")

    assert result.exit_code == 1
    assert "standard input gave no password" in one_line_error(result)
    assert table.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["provision", "pg_evil", "--generate-password"], "pg_"),
        (["provision", "public", "--generate-password"], "reserved"),
        (["provision", "x" * 64, "--generate-password"], "64 bytes"),
        (["provision", "ro", "--schema", "nope", "--generate-password"], "no schema"),
        (["provision", "ro", "--owner", "ghost", "--generate-password"], "--owner"),
        (["rotate-password", "ghost_ro", "--generate-password"], "does not exist"),
    ],
)
def test_bad_input_is_a_one_line_error_with_exit_1(
    runner: CliRunner, table: TestDatabase, args: list[str], message: str
) -> None:
    table.roles.append(args[1])

    result = invoke(runner, table, *args)

    assert result.exit_code == 1
    line = one_line_error(result)
    assert line.startswith("Error: ") and message in line
    assert "DATABASE_READ_ONLY_URL" not in result.stdout


def test_existing_superuser_names_the_force_option(
    runner: CliRunner, table: TestDatabase
) -> None:
    role = table.role("boss", password=PASSWORD, attrs="SUPERUSER")

    result = invoke(runner, table, "provision", role)

    assert result.exit_code == 1
    assert "--force" in one_line_error(result)


def test_unreachable_server_is_a_one_line_error(runner: CliRunner) -> None:
    result = runner.invoke(
        main,
        [
            "provision",
            "app_ro",
            "--generate-password",
            "--database-url",
            "postgresql://nobody@127.0.0.1:1/app",
        ],
    )

    assert result.exit_code == 1
    assert one_line_error(result).startswith("Error: cannot connect as nobody@")


@pytest.mark.parametrize(
    "args",
    [
        ["provision"],
        ["provision", "ro", "--connection-limit", "-5"],
        ["provision", "ro", "--password-stdin", "--generate-password"],
        ["drop"],
    ],
)
def test_usage_errors_exit_2(runner: CliRunner, args: list[str]) -> None:
    result = runner.invoke(main, args, input=PASSWORD)

    assert result.exit_code == 2


def test_drop_needs_confirmation_without_a_terminal(
    runner: CliRunner, table: TestDatabase
) -> None:
    role = table.role("ro")
    provision(table.url, role, password=PASSWORD)

    refused = invoke(runner, table, "drop", role)
    dropped = invoke(runner, table, "drop", role, "--yes")
    again = invoke(runner, table, "drop", role, "--yes", "--json")

    assert refused.exit_code == 1 and "--yes" in one_line_error(refused)
    assert dropped.exit_code == 0, dropped.stderr
    assert f"Role {role} dropped in database {table.name}:" in dropped.stdout
    assert "drop-role: role" in dropped.stdout
    assert table.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]) == []
    assert again.exit_code == 0
    assert json.loads(again.stdout)["existed"] is False


def test_drop_dry_run_needs_no_confirmation(
    runner: CliRunner, table: TestDatabase
) -> None:
    role = table.role("ro")
    provision(table.url, role, password=PASSWORD)

    result = invoke(runner, table, "drop", role, "--dry-run")

    assert result.exit_code == 0
    assert result.stdout.strip().endswith(f'DROP ROLE "{role}";')
    assert table.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]) != []


def test_rotate_password_generated_and_from_stdin(
    runner: CliRunner, table: TestDatabase, needs_password_auth: None
) -> None:
    role = table.role("ro")
    provision(table.url, role, password=PASSWORD)

    generated = invoke(runner, table, "rotate-password", role, "--generate-password")
    url = re.search(r"^DATABASE_READ_ONLY_URL=(\S+)$", generated.stdout, re.M)
    chosen = invoke(
        runner,
        table,
        "rotate-password",
        role,
        "--password-stdin",
        "--json",
        stdin="chosen-password\n",
    )

    assert generated.exit_code == 0 and url is not None
    assert chosen.exit_code == 0
    assert "chosen-password" not in chosen.stdout
    assert json.loads(chosen.stdout)["changes"] == [
        {"action": "set-password", "object": f"password of {role}"}
    ]
    with psycopg.connect(table.url_for(role, "chosen-password")) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (role,)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url.group(1))


@contextlib.contextmanager
def provisioned_in_two_databases(table: TestDatabase) -> Iterator[tuple[str, str]]:
    """A role provisioned in *table* and in a second database, and that database."""
    role = table.role("ro")
    other = table.role("t")  # a unique name, used here for a database
    table.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(other)))
    other_url = table.server.url_for(*table._superuser(), dbname=other)
    try:
        provision(table.url, role, password=PASSWORD)
        provision(other_url, role)
        yield role, other
    finally:
        table.execute(
            sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(other))
        )


def test_drop_of_a_role_used_in_another_database_exits_1(
    runner: CliRunner, table: TestDatabase
) -> None:
    with provisioned_in_two_databases(table) as (role, other):
        result = invoke(runner, table, "drop", role, "--yes")

    assert result.exit_code == 1
    assert "revoke: database" in result.stdout
    assert f"database(s) {other}" in one_line_error(result)


def test_drop_dry_run_says_the_role_would_be_kept(
    runner: CliRunner, table: TestDatabase
) -> None:
    with provisioned_in_two_databases(table) as (role, other):
        result = invoke(runner, table, "drop", role, "--dry-run")

    assert result.exit_code == 0
    assert "DROP ROLE" not in result.stdout
    assert f"{role} would be kept" in result.stderr
    assert f"database(s) {other}" in result.stderr


def test_prompts_for_the_admin_and_the_new_role_password_on_a_terminal(
    table: TestDatabase, needs_password_auth: None, tmp_path: Path
) -> None:
    pexpect = pytest.importorskip("pexpect")
    role = table.role("ro")
    env = {
        **os.environ,
        "DATABASE_URL": without_password(table.url),
        "PGPASSFILE": str(tmp_path / "none"),
    }
    env.pop("PGPASSWORD", None)
    admin_password = psycopg.conninfo.conninfo_to_dict(table.url)["password"]
    command = str(Path(sys.executable).with_name("dbrole-switch"))

    child = pexpect.spawn(
        command, ["provision", role], env=env, encoding="utf-8", timeout=30
    )
    child.expect("Password for ")
    child.sendline(str(admin_password))
    child.expect(f"Password for new role {role}")
    child.sendline("typed-" + PASSWORD)
    child.expect("Repeat for confirmation")
    child.sendline("typed-" + PASSWORD)
    child.expect(pexpect.EOF)
    child.close()
    output = child.before or ""

    assert child.exitstatus == 0, output
    assert f"Role {role} created" in output
    assert PASSWORD not in output and str(admin_password) not in output
    with psycopg.connect(table.url_for(role, "typed-" + PASSWORD)) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (role,)


@pytest.mark.parametrize(
    "args",
    [
        ["provision", "{role}"],
        ["provision", "{role}", "--password-stdin"],
        ["rotate-password", "{role}"],
        ["drop", "{role}"],
    ],
    ids=lambda args: " ".join(args[:1] + args[2:]),
)
def test_closed_stdin_is_a_one_line_error(table: TestDatabase, args: list[str]) -> None:
    # A shell's `<&-` starts the process without file descriptor 0, and Python
    # then has no sys.stdin at all.
    role = table.role("ro")
    command = str(Path(sys.executable).with_name("dbrole-switch"))
    argv = [arg.format(role=role) for arg in args]
    env = {**os.environ, "DATABASE_URL": table.url}

    result = subprocess.run(
        ["sh", "-c", 'exec "$0" "$@" <&-', command, *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("Error: ")
    assert table.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]) == []


def test_connection_limit_too_large_is_a_usage_error(
    runner: CliRunner, table: TestDatabase
) -> None:
    role = table.role("ro")

    result = invoke(
        runner,
        table,
        "provision",
        role,
        "--generate-password",
        "--connection-limit",
        str(2**31),
    )

    assert result.exit_code == 2
    assert "--connection-limit" in result.stderr
    assert table.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]) == []


def test_admin_without_createrole_is_told_before_a_password_is_asked(
    runner: CliRunner, table: TestDatabase
) -> None:
    admin = table.role("plain", password=PASSWORD)
    role = table.role("ro")

    result = runner.invoke(
        main,
        ["provision", role],
        env={"DATABASE_URL": table.url_for(admin, PASSWORD), "PGPASSWORD": None},
    )

    assert result.exit_code == 1
    assert "needs CREATEROLE" in one_line_error(result)


def test_missing_admin_password_without_a_terminal_says_where_to_put_it(
    runner: CliRunner, table: TestDatabase, needs_password_auth: None, tmp_path: Path
) -> None:
    role = table.role("ro")

    result = runner.invoke(
        main,
        ["provision", role, "--password-stdin"],
        input=PASSWORD + "\n",
        env={
            "DATABASE_URL": without_password(table.url),
            "PGPASSWORD": None,
            "PGPASSFILE": str(tmp_path / "none"),
        },
    )

    assert result.exit_code == 1
    assert "PGPASSWORD" in one_line_error(result)
    assert table.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]) == []
