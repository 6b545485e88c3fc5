"""``dbrole-switch verify`` on the command line: output, JSON, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import Server, TestDatabase
from psycopg.conninfo import conninfo_to_dict
from test_verify import Layout, build_layout, shared_database

from dbrole_switch.cli import main
from dbrole_switch.connection import without_password


@pytest.fixture(scope="module")
def shared_db(pg_server: Server) -> Iterator[tuple[TestDatabase, str]]:
    with shared_database(pg_server) as pair:
        yield pair


@pytest.fixture
def layout(shared_db: tuple[TestDatabase, str]) -> Layout:
    """A role provisioned just now; faults planted on it touch no other test."""
    return build_layout(shared_db[0], owner=shared_db[1])


def run(
    *args: str, input: str | None = None, env: dict[str, str | None] | None = None
) -> Result:
    return CliRunner().invoke(main, ["verify", *args], input=input, env=env)


def test_clean_role_prints_a_table_and_exits_0(layout: Layout) -> None:
    result = run(layout.role, "--database-url", layout.url)

    assert result.exit_code == 0, result.output
    assert f"Role {layout.role} in database {layout.db.name}" in result.stdout
    assert "SEVERITY" in result.stdout and "temp_tables" in result.stdout
    assert result.stdout.rstrip().splitlines()[-1].startswith("OK: 0 error(s)")
    assert result.stderr == ""


def test_planted_fault_exits_1_and_names_fault_and_fix(layout: Layout) -> None:
    layout.run("GRANT INSERT ON app.item TO {role}")

    result = run(layout.role, "--database-url", layout.url)

    assert result.exit_code == 1
    assert "table_write" in result.stdout and "app.item" in result.stdout
    assert f'fix: REVOKE INSERT ON TABLE "app"."item" FROM "{layout.role}";' in (
        result.stdout
    )
    assert "FAILED: 1 error(s)" in result.stdout


def test_json_is_one_document_with_the_findings(layout: Layout) -> None:
    layout.run("GRANT pg_write_all_data TO {role}")

    result = run(layout.role, "--database-url", layout.url, "--json")

    document = json.loads(result.stdout)
    assert result.exit_code == 1
    assert document["exit_code"] == 1 and document["role"] == layout.role
    assert "membership" in {f["code"] for f in document["errors"]}
    assert document["queries"] >= 1
    admin_password = conninfo_to_dict(layout.url)["password"]
    assert str(admin_password) not in result.output
    assert layout.password not in result.output


def test_database_url_falls_back_to_the_environment(layout: Layout) -> None:
    result = run(layout.role, "--json", env={"DATABASE_URL": layout.url})

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["database"] == layout.db.name


def test_schema_option_limits_the_coverage_check(layout: Layout) -> None:
    layout.run("REVOKE SELECT ON public.note FROM {role}")

    everywhere = run(layout.role, "--database-url", layout.url, "--json")
    only_app = run(
        layout.role, "--database-url", layout.url, "--schema", "app", "--json"
    )

    assert everywhere.exit_code == 1 and only_app.exit_code == 0
    assert json.loads(only_app.stdout)["schemas"] == ["app"]
    assert "public.note" in {
        f["subject"] for f in json.loads(everywhere.stdout)["errors"]
    }


def test_strict_turns_warnings_into_exit_1(layout: Layout) -> None:
    layout.run("ALTER ROLE {role} RESET default_transaction_read_only")

    relaxed = run(layout.role, "--database-url", layout.url)
    strict = run(layout.role, "--database-url", layout.url, "--strict")

    assert relaxed.exit_code == 0 and "belt_missing" in relaxed.stdout
    assert strict.exit_code == 1 and strict.stdout.rstrip().endswith("s)")
    assert "FAILED: 0 error(s)" in strict.stdout


def test_probe_reads_the_password_from_stdin_and_finds_a_column_grant(
    layout: Layout,
) -> None:
    layout.run("GRANT UPDATE (qty) ON app.item TO {role}")
    rows = layout.count("SELECT count(*) FROM app.item")

    result = run(
        layout.role,
        "--database-url",
        layout.url,
        "--probe",
        "--password-stdin",
        "--json",
        input=layout.password + "\n",
    )

    document = json.loads(result.stdout)
    assert result.exit_code == 1
    assert "app.item (qty)" in {
        f["subject"] for f in document["errors"] if f["code"] == "probe_write"
    }
    assert document["probe"]["statements"] == len(document["probe"]["attempts"])
    assert layout.password not in result.output
    assert layout.count("SELECT count(*) FROM app.item") == rows


def test_probe_text_output_summarises_the_attempts(layout: Layout) -> None:
    result = run(
        layout.role,
        "--database-url",
        layout.url,
        "--probe",
        "--password-stdin",
        input=layout.password + "\n",
    )

    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "got through" in text and "all rolled back" in text


def test_missing_role_is_one_line_and_exit_1(db: TestDatabase) -> None:
    result = run("nobody_here", "--database-url", db.url)

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "Error: role 'nobody_here' does not exist; create it with "
        "'dbrole-switch provision nobody_here'"
    ]


def test_unreachable_server_is_one_line_and_exit_1() -> None:
    result = run("app_ro", "--database-url", "postgresql://u@127.0.0.1:1/nodb")

    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("Error: cannot connect as u@127.0.0.1:1/nodb")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "Missing argument 'ROLE'"),
        (["app_ro", "--no-such-option"], "No such option"),
        (["app_ro", "--password-stdin"], "only used with --probe"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    result = run(*args)

    assert result.exit_code == 2
    assert message in result.stderr


def test_probe_without_a_terminal_or_stdin_is_a_one_line_error() -> None:
    result = run("app_ro", "--database-url", "postgresql://u@127.0.0.1:1/x", "--probe")

    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "Error: no terminal to ask for the password; use --password-stdin"
    ]
    # --generate-password belongs to provision: verify has no such option.
    assert "--generate-password" not in result.stderr


def test_help_ends_with_an_example() -> None:
    result = CliRunner().invoke(main, ["verify", "--help"])

    assert result.exit_code == 0
    help_text = result.stdout.split("Options:")[0].rstrip()
    assert help_text.splitlines()[-2].strip() == "Example:"
    assert help_text.splitlines()[-1].strip().startswith("dbrole-switch verify ")


def test_text_report_reads_at_80_columns(layout: Layout) -> None:
    layout.run("GRANT UPDATE (qty) ON app.item TO {role}")

    result = run(layout.role, "--database-url", layout.url)

    prose = [
        line
        for line in result.stdout.splitlines()
        if not line.lstrip().startswith(("fix:", "REVOKE", "ALTER", "GRANT", "or:"))
    ]
    assert result.exit_code == 1
    assert [line for line in prose if len(line) > 80] == []
    assert "UPDATE on column(s) qty" in " ".join(result.stdout.split())


@pytest.mark.parametrize("args", [["--probe"], ["--probe", "--password-stdin"]])
def test_probe_with_stdin_closed_is_a_one_line_error(
    layout: Layout, args: list[str]
) -> None:
    # A shell's `<&-` starts the process without file descriptor 0, and Python
    # then has no sys.stdin at all.
    command = str(Path(sys.executable).with_name("dbrole-switch"))

    result = subprocess.run(
        ["sh", "-c", 'exec "$0" "$@" <&-', command, "verify", layout.role, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": layout.url},
        timeout=60,
        check=False,
    )

    assert result.returncode == 1, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error: ")
    assert "--password-stdin" in line
    assert "--generate-password" not in line


def test_asks_for_the_admin_password_on_a_terminal(
    layout: Layout, needs_password_auth: None, tmp_path: Path
) -> None:
    pexpect = pytest.importorskip("pexpect")
    env = {
        **os.environ,
        "DATABASE_URL": without_password(layout.url),
        "PGPASSFILE": str(tmp_path / "none"),
    }
    env.pop("PGPASSWORD", None)
    admin_password = str(conninfo_to_dict(layout.url)["password"])
    command = str(Path(sys.executable).with_name("dbrole-switch"))

    child = pexpect.spawn(
        command, ["verify", layout.role], env=env, encoding="utf-8", timeout=30
    )
    child.expect("Password for ")
    child.sendline(admin_password)
    child.expect(pexpect.EOF)
    child.close()
    output = child.before or ""

    assert child.exitstatus == 0, output
    assert "OK: 0 error(s)" in output
    assert admin_password not in output


def test_no_admin_password_and_no_terminal_is_one_line(
    layout: Layout, needs_password_auth: None, tmp_path: Path
) -> None:
    env = {"PGPASSFILE": str(tmp_path / "none"), "PGPASSWORD": None}

    result = run(layout.role, "--database-url", without_password(layout.url), env=env)

    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "set PGPASSWORD or put it in ~/.pgpass" in result.stderr
