"""docker-compose.yml, checked without a Docker engine.

The file is validated against the Compose specification's JSON schema (bundled
with check-jsonschema), then read as YAML for what the schema cannot see: services
that depend on services that do not exist, and passwords in command lines.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from conftest import TestDatabase

from dbrole_switch.demo import example_dir

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
MOUNT = "/run/secrets/"


def _check_schema(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = compose["services"]
    assert isinstance(found, dict)
    return found


def _command_text(service: dict[str, Any]) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else str(command)


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        return dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def _secret_names(service: dict[str, Any]) -> set[str]:
    return {
        item if isinstance(item, str) else item["source"]
        for item in service.get("secrets", [])
    }


def test_compose_file_matches_the_compose_specification() -> None:
    done = _check_schema(COMPOSE)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok -- validation done" in done.stdout


def test_schema_check_rejects_a_malformed_compose_file(tmp_path: Path) -> None:
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(
        COMPOSE.read_text().replace("    image: postgres:17", "    imag: postgres:17")
    )

    done = _check_schema(broken)

    assert done.returncode == 1
    assert "imag" in done.stdout + done.stderr


def test_every_depends_on_names_a_defined_service(
    services: dict[str, dict[str, Any]],
) -> None:
    dependencies = {
        (name, dependency)
        for name, service in services.items()
        for dependency in service.get("depends_on", [])
    }

    assert dependencies
    assert {dep for _, dep in dependencies} <= set(services)
    assert all(name != dep for name, dep in dependencies)


def test_every_secret_a_service_uses_is_declared(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    declared = set(compose["secrets"])

    for name, service in services.items():
        used = set(re.findall(r"/run/secrets/(\w+)", _command_text(service)))
        used |= {
            value.removeprefix(MOUNT)
            for value in _environment(service).values()
            if value.startswith(MOUNT)
        }
        assert used <= _secret_names(service), name
        assert _secret_names(service) <= declared, name
        for secret in declared:
            assert compose["secrets"][secret]["file"].startswith("./secrets/")


def test_postgres_uses_scram_for_verifiers_and_connections(
    services: dict[str, dict[str, Any]],
) -> None:
    env = _environment(services["db"])

    assert env["POSTGRES_HOST_AUTH_METHOD"] == "scram-sha-256"
    assert "--auth-host=scram-sha-256" in env["POSTGRES_INITDB_ARGS"].split()
    assert "POSTGRES_PASSWORD" not in env
    assert env["POSTGRES_PASSWORD_FILE"].startswith(MOUNT)


def test_no_password_is_written_into_the_compose_file(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        command = _command_text(service)
        assert "--password " not in command and "--password=" not in command, name
        assert command.count("PGPASSWORD=") == command.count(
            'PGPASSWORD="$$(cat /run/secrets/'
        ), name
        for key, value in _environment(service).items():
            if "://" in value:
                assert urlsplit(value).password is None, (name, key)
            if "PASSWORD" in key:
                assert value.startswith(MOUNT), (name, key)


def test_provision_service_reads_the_new_password_from_a_secret(
    services: dict[str, dict[str, Any]],
) -> None:
    command = _command_text(services["provision"])

    match = re.search(
        r"dbrole-switch provision (\w+) --password-stdin\s+<\s*/run/secrets/(\w+)",
        command,
    )

    assert match, command
    assert match.group(2) in _secret_names(services["provision"])
    assert "migrate" in services["provision"]["depends_on"]


def test_shell_service_is_read_only_with_the_provisioned_role(
    services: dict[str, dict[str, Any]],
) -> None:
    shell = services["shell"]
    env = _environment(shell)
    provisioned = re.search(
        r"dbrole-switch provision (\w+)", _command_text(services["provision"])
    )

    assert env["DJANGO_READ_ONLY"] == "1"
    assert provisioned is not None
    assert urlsplit(env["DATABASE_READ_ONLY_URL"]).username == provisioned.group(1)
    assert urlsplit(env["DATABASE_URL"]).username == "app"
    assert "manage.py shell" in _command_text(shell)
    assert shell["stdin_open"] is True and shell["tty"] is True
    assert "provision" in shell["depends_on"]


def test_services_built_here_have_a_dockerfile_that_installs_this_checkout(
    services: dict[str, dict[str, Any]],
) -> None:
    built = [service for service in services.values() if "build" in service]

    dockerfile = (ROOT / "Dockerfile").read_text()

    assert built and all(service["build"] == "." for service in built)
    assert "COPY . /src" in dockerfile
    assert "WORKDIR /src/example" in dockerfile
    assert (ROOT / "example" / "manage.py").is_file()


def _as_run_here(text: str, names: dict[str, str], secrets: Path) -> str:
    """*text* from the compose file, pointed at the test server and files."""
    text = text.replace("$$", "$").replace(MOUNT, f"{secrets}/")
    for old, new in names.items():
        text = text.replace(old, new)
    return text


def test_compose_commands_work_against_a_real_server(
    services: dict[str, dict[str, Any]],
    db: TestDatabase,
    needs_password_auth: None,
    tmp_path: Path,
) -> None:
    # No Docker engine here: run each service's command in a shell with its own
    # environment, as its container would, against the test server instead of
    # the "db" service. The official image makes POSTGRES_USER a superuser.
    app_password, ro_password = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    app = db.role("app", password=app_password, attrs="SUPERUSER")
    ro = db.role("app_ro")
    (tmp_path / "app_password").write_text(app_password + "\n")
    (tmp_path / "readonly_password").write_text(ro_password + "\n")
    server = db.server
    names = {
        "@db:5432/app": f"@{server.host}:{server.port}/{db.name}",
        "//app_ro@": f"//{ro}@",
        "//app@": f"//{app}@",
        "provision app_ro ": f"provision {ro} ",
        "verify app_ro": f"verify {ro}",
        "manage.py shell": "manage.py shell -c "
        "'from django.db import connection; c = connection.cursor(); "
        'c.execute("SELECT current_user, count(*) FROM library_book"); '
        "print(*c.fetchone())'",
    }
    outputs = {}

    for name in ("migrate", "provision", "shell"):
        service = services[name]
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DATABASE_", "DJANGO_", "PG"))
        }
        env.update(
            {
                key: _as_run_here(value, names, tmp_path)
                for key, value in _environment(service).items()
            },
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            PYTHONDONTWRITEBYTECODE="1",
        )
        command = [_as_run_here(part, names, tmp_path) for part in service["command"]]
        done = subprocess.run(
            command,
            cwd=example_dir(),
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode == 0, (name, done.stdout, done.stderr)
        outputs[name] = done.stdout

    assert outputs["shell"].strip().splitlines()[-1] == f"{ro} 3"
    assert app_password not in "".join(outputs.values())
    assert ro_password not in "".join(outputs.values())
    with db.connect() as conn:
        row = conn.execute(
            "SELECT rolpassword FROM pg_authid WHERE rolname = %s", (ro,)
        ).fetchone()
    assert row is not None and row[0].startswith("SCRAM-SHA-256$")
