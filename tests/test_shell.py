"""``manage.py shell`` in read-only mode, driven through a pseudo-terminal.

Each test starts the test project's real ``manage.py shell`` (IPython or the plain
Python console) with ``DJANGO_READ_ONLY=1`` against a real server, types into it as a
person would, and reads the screen with the terminal's escape sequences removed.
They run against the first server of ``DBROLE_SWITCH_TEST_PG`` only.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import django
import pexpect
import pytest
from psycopg import sql

# A shell takes a second to start and the tests wait out real idle lapses, while
# nothing they check depends on the server version (the switch's own tests cover
# those differences): they run against the first server of DBROLE_SWITCH_TEST_PG.
FIRST_SERVER = os.environ.get("DBROLE_SWITCH_TEST_PG", "auto").split(",")[0].strip()
pytestmark = pytest.mark.parametrize(
    "pg_server",
    [FIRST_SERVER or "auto"],
    indirect=True,
    ids=lambda spec: f"pg{spec}" if spec.isdigit() else spec,
)

TESTS = Path(__file__).resolve().parent
MANAGE = TESTS / "testproject" / "manage.py"
# Only waits for what must come: generous, for a busy machine.
TIMEOUT = 60.0
OWNER_PASSWORD = "owner secret 1"  # noqa: S105
READ_ONLY_PASSWORD = "reader secret 2"  # noqa: S105

# CSI sequences, OSC titles and two-byte escapes: what prompt_toolkit and readline
# put around the text a person reads.
ANSI = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])"
)

CURSOR_QUERY = "\x1b[6n"
REFUSED = re.compile(r"ReadOnly\w*Error: [^\n]*")
CREATED = re.compile(r"created \d+")
# Imported, not left to Django 5.2's automatic imports, so that 4.2 runs it too.
WRITE = (
    "from testproject.models import Note; "
    'print("created", Note.objects.create(title="t", body="b").pk)'
)
PROMPTS = {
    "ipython": r"\[(read-only|WRITES [^\]]+)\] In \[(?P<number>\d+)\]:",
    "python": r"\[(read-only|WRITES [^\]]+)\] >>> ",
}


class Screen:
    """A running shell: send lines, wait for text, read the marker."""

    def __init__(self, child: pexpect.spawn, interface: str) -> None:
        self.child = child
        self.interface = interface
        self.raw = ""
        self.pos = 0
        self.number: str | None = None
        self.answered = 0

    @property
    def text(self) -> str:
        return ANSI.sub("", self.raw).replace("\r", "")

    def expect(self, pattern: str, timeout: float = TIMEOUT) -> re.Match[str]:
        """Wait for *pattern* in what appeared since the last match."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            text = self.text
            match = regex.search(text, self.pos)
            if match:
                self.pos = match.end()
                return match

            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"{pattern!r} not seen within {timeout} s; the shell showed:\n"
                    + text[self.pos :]
                )
            try:
                self.raw += self.child.read_nonblocking(65536, min(remaining, 0.2))
                # Answer where the cursor is, as a terminal does: bpython waits
                # for the answer (seconds) before it draws its first prompt.
                while self.answered < self.raw.count(CURSOR_QUERY):
                    self.child.send("\x1b[1;1R")
                    self.answered += 1
            except pexpect.TIMEOUT:
                pass
            except pexpect.EOF:
                raise AssertionError(
                    f"shell exited before {pattern!r}; it showed:\n" + text[self.pos :]
                ) from None

    def until_prompt(self) -> tuple[str, str]:
        """Wait for the next prompt; return what came before it, and its marker."""
        start = self.pos
        while True:
            match = self.expect(PROMPTS[self.interface])
            # prompt_toolkit draws a prompt again while a line is typed into it:
            # IPython's next prompt is the one with the next number.
            number = match.groupdict().get("number")
            if number is None or number != self.number:
                self.number = number
                return self.text[start : match.start()], match.group(1)

    def run(self, line: str) -> tuple[str, str]:
        """Type *line*; return its output and the marker of the next prompt."""
        self.child.sendline(line)
        return self.until_prompt()

    def password_prompt(self) -> str:
        """Wait for the hidden password prompt and return it."""
        return self.expect(r"Password for role [^\n]*: ").group(0)

    def close(self) -> None:
        self.child.sendeof()
        try:
            self.child.expect(pexpect.EOF, timeout=5)
        except pexpect.TIMEOUT:
            self.child.terminate(force=True)
        self.child.close()


@dataclass
class Project:
    owner: str
    reader: str
    dbname: str
    host: str
    env: dict[str, str]


@pytest.fixture
def project(db, needs_password_auth, tmp_path) -> Project:
    """A database with a privileged owner and a read-only role; the shell's env."""
    owner = db.role("owner", password=OWNER_PASSWORD)
    reader = db.role("reader", password=READ_ONLY_PASSWORD)
    ident = {"owner": sql.Identifier(owner), "reader": sql.Identifier(reader)}
    for statement in (
        "CREATE TABLE testproject_note"
        " (id bigserial PRIMARY KEY, title varchar(200) NOT NULL, body text NOT NULL,"
        " created timestamptz NOT NULL)",
        "ALTER TABLE testproject_note OWNER TO {owner}",
        "GRANT USAGE ON SCHEMA public TO {reader}",
        "GRANT SELECT ON testproject_note TO {reader}",
        "ALTER ROLE {reader} SET default_transaction_read_only = on",
    ):
        db.execute(sql.SQL(statement).format(**ident))

    ipython_dir = tmp_path / "ipython" / "profile_default"
    ipython_dir.mkdir(parents=True)
    # No colours (so the marker is plain text), no history file, no exit question.
    (ipython_dir / "ipython_config.py").write_text(
        'c.InteractiveShell.colors = "nocolor"\n'
        "c.HistoryManager.enabled = False\n"
        "c.TerminalInteractiveShell.confirm_exit = False\n"
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO", "DATABASE", "DBROLE_SWITCH", "PYTHON", "PG"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="shellsettings",
        PYTHONPATH=str(TESTS),
        DJANGO_READ_ONLY="1",
        DATABASE_URL=db.url_for(owner, None),
        DATABASE_READ_ONLY_URL=db.url_for(reader, READ_ONLY_PASSWORD),
        IPYTHONDIR=str(tmp_path / "ipython"),
        HOME=str(tmp_path),
        TERM="xterm",
        # No questions about the cursor's position from prompt_toolkit: its
        # output stays a plain stream of text.
        PROMPT_TOOLKIT_NO_CPR="1",
    )
    return Project(owner, reader, db.name, db.server.host, env)


def start(project: Project, interface: str, **extra: str) -> Screen:
    child = pexpect.spawn(
        sys.executable,
        [str(MANAGE), "shell", "--interface", interface],
        env={**project.env, **extra},
        encoding="utf-8",
        dimensions=(40, 250),
        timeout=TIMEOUT,
    )
    return Screen(child, interface)


@pytest.fixture(params=["ipython", "python"])
def interface(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_read_only_shell_then_escalation(project, interface):
    screen = start(project, interface)
    try:
        banner = screen.expect(r"dbrole-switch: READ-ONLY: [^\n]*").group(0)
        _, marker = screen.until_prompt()
        refused, _ = screen.run(WRITE)

        screen.child.sendline("enable_writes()")
        asked = screen.password_prompt()
        screen.child.sendline("not the password")
        wrong, after_wrong = screen.until_prompt()
        refused_after_wrong, _ = screen.run(WRITE)

        screen.child.sendline("enable_writes()")
        screen.password_prompt()
        screen.child.sendintr()
        interrupted, after_interrupt = screen.until_prompt()
        refused_after_interrupt, _ = screen.run(WRITE)

        screen.child.sendline("enable_writes()")
        screen.password_prompt()
        screen.child.sendeof()
        ended, after_eof = screen.until_prompt()

        screen.child.sendline("enable_writes()")
        screen.password_prompt()
        screen.child.sendline("")
        empty, after_empty = screen.until_prompt()

        screen.child.sendline("with temp_writes(): print('in', writes_enabled()); 1/0")
        if interface == "python":
            screen.child.sendline("")
        screen.password_prompt()
        screen.child.sendline(OWNER_PASSWORD)
        raised, after_block = screen.until_prompt()

        screen.child.sendline("enable_writes()")
        screen.password_prompt()
        screen.child.sendline(OWNER_PASSWORD)
        _, after_right = screen.until_prompt()
        created, _ = screen.run(WRITE)

        assert f"default as {project.reader}" in banner
        assert project.owner in banner
        assert marker == "read-only"
        assert REFUSED.search(refused), refused
        assert "default" in refused and project.reader in refused
        assert "enable_writes()" in refused
        assert not CREATED.search(refused)

        assert f"role '{project.owner}' on database '{project.dbname}'" in asked
        assert project.host in asked
        assert "EscalationError" in wrong
        assert "not the password" not in wrong
        assert after_wrong == "read-only"
        assert REFUSED.search(refused_after_wrong), refused_after_wrong

        assert "password prompt cancelled; writes stay disabled" in interrupted
        assert "Traceback" not in interrupted
        assert after_interrupt == "read-only"
        assert REFUSED.search(refused_after_interrupt), refused_after_interrupt

        assert "password prompt cancelled; writes stay disabled" in ended
        assert "Traceback" not in ended
        assert after_eof == "read-only"
        assert "EscalationError: no password entered" in empty
        assert after_empty == "read-only"
        assert "in True" in raised
        assert "ZeroDivisionError" in raised
        assert after_block == "read-only"

        assert after_right == "WRITES default"
        assert CREATED.search(created)
        assert OWNER_PASSWORD not in screen.text
    finally:
        screen.close()


def test_writes_magic(project):
    screen = start(project, "ipython")
    try:
        screen.until_prompt()

        screen.child.sendline("%writes on")
        screen.password_prompt()
        screen.child.sendline(OWNER_PASSWORD)
        on, after_on = screen.until_prompt()
        off, after_off = screen.run("%writes off")
        status, _ = screen.run("%writes status")
        refused, _ = screen.run(WRITE)
        usage, _ = screen.run("%writes sideways")
        # A block over several lines: the continuation prompts line up after
        # the marker, and the block runs.
        screen.child.sendline("for i in range(2):")
        screen.child.sendline("print('row', i * 10)")
        block, _ = screen.run("")

        assert f"default: WRITES ENABLED as {project.owner}" in on
        assert "lapses after 15 min idle" in on
        assert after_on == "WRITES default"
        assert f"default: read-only as {project.reader}" in off
        assert after_off == "read-only"
        assert f"default: read-only as {project.reader}" in status
        assert REFUSED.search(refused), refused
        assert "usage: %writes on" in usage
        assert "row 0\nrow 10\n" in block
    finally:
        screen.close()


def test_idle_lapse(project, interface):
    # Two seconds: long enough that the round trip from one prompt to the next
    # command never counts as idle, even on a busy machine.
    screen = start(project, interface, DBROLE_SWITCH_TEST_LAPSE="2")
    opt_out = {
        "ipython": "%writes on --no-lapse",
        "python": "enable_writes(lapse=None)",
    }
    try:
        screen.until_prompt()
        screen.child.sendline("enable_writes()")
        screen.password_prompt()
        screen.child.sendline(OWNER_PASSWORD)
        _, escalated = screen.until_prompt()
        busy, _ = screen.run("import time; time.sleep(2.5); " + WRITE)

        time.sleep(2.5)
        lapsed, after_lapse = screen.run(WRITE)

        screen.child.sendline(opt_out[interface])
        screen.password_prompt()
        screen.child.sendline(OWNER_PASSWORD)
        screen.until_prompt()
        time.sleep(2.5)
        kept, after_opt_out = screen.run(WRITE)

        assert escalated == "WRITES default"
        # A command that runs longer than the lapse is never cut short.
        assert CREATED.search(busy)
        assert "lapsed" not in busy

        assert "writes lapsed after 2 s idle: default read-only again" in lapsed
        assert re.search("writes lapsed.*\\n(.*\\n)*.*ReadOnly\\w*Error: ", lapsed)
        assert not CREATED.search(lapsed)
        assert after_lapse == "read-only"

        assert "lapsed" not in kept
        assert CREATED.search(kept)
        assert after_opt_out == "WRITES default"
    finally:
        screen.close()


@pytest.mark.parametrize("how", ["piped", "-c"])
def test_no_terminal_fails_fast(project, how):
    code = (
        "import time\n"
        "started = time.monotonic()\n"
        "try:\n"
        "    enable_writes()\n"
        "finally:\n"
        "    print('took', time.monotonic() - started, flush=True)\n"
    )
    args = [sys.executable, str(MANAGE), "shell"]
    if how == "-c":
        args += ["-c", code]

    # A new session has no controlling terminal, like cron or `kubectl exec`
    # without -t: the password cannot be asked for anywhere.
    done = subprocess.run(
        args,
        input="" if how == "-c" else code,
        capture_output=True,
        text=True,
        env=project.env,
        timeout=TIMEOUT,
        start_new_session=True,
        check=False,
    )

    took = float(done.stdout.split("took", 1)[1].split()[0])
    assert done.returncode == 1
    # One line that says what to do, not the stack of the ORM and the prompt.
    [error] = done.stderr.splitlines()
    assert error.startswith("CommandError: NoTerminalError: "), error
    assert project.owner in error
    assert "enable_writes(password=...)" in error
    assert "Password" not in done.stdout + done.stderr
    assert took < 1.0


def test_shell_without_read_only_mode(project):
    screen = start(project, "python", DJANGO_READ_ONLY="")
    try:
        banner = screen.expect(r"dbrole-switch: [^\n]*").group(0)
        screen.expect(r"\n>>> ")

        assert "read-only mode is off" in banner
    finally:
        screen.close()


def test_extension_loads_on_its_own(project):
    # What a shell_plus user, or any IPython with Django set up, gets from
    # %load_ext: here a bare IPython started after django.setup().
    code = "import django; django.setup(); import IPython; IPython.start_ipython([])"
    child = pexpect.spawn(
        sys.executable,
        ["-c", code],
        env=project.env,
        encoding="utf-8",
        dimensions=(40, 250),
        timeout=TIMEOUT,
    )
    screen = Screen(child, "ipython")
    try:
        screen.expect(r"In \[1\]:")
        screen.number = "1"

        loaded, marker = screen.run("%load_ext dbrole_switch.ipython")
        status, _ = screen.run("%writes status")
        names, _ = screen.run("print(writes_enabled(), enable_writes.__module__)")
        screen.child.sendline('import time; print("sl" + "eeping"); time.sleep(30)')
        screen.expect(r"\nsleeping")
        screen.child.sendintr()
        interrupted, _ = screen.until_prompt()
        screen.child.sendline("%unload_ext dbrole_switch.ipython")
        unloaded = screen.expect(r"(\[read-only\] )?In \[6\]:")

        assert f"dbrole-switch: READ-ONLY: default as {project.reader}" in loaded
        assert marker == "read-only"
        assert f"default: read-only as {project.reader}" in status
        assert "False dbrole_switch.switch" in names
        # Ctrl-C anywhere but at the password prompt shows what IPython shows.
        assert "KeyboardInterrupt" in interrupted
        assert "password prompt" not in interrupted
        assert unloaded.group(1) is None
    finally:
        screen.close()


def test_names_in_django_automatic_imports(project):
    done = subprocess.run(
        [sys.executable, str(MANAGE), "shell", "-v", "2", "-c", "print(temp_writes)"],
        capture_output=True,
        text=True,
        env=project.env,
        timeout=TIMEOUT,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert "<function temp_writes" in done.stdout
    if django.VERSION >= (5, 2):
        listed = [
            line for line in done.stdout.splitlines() if "from dbrole_switch " in line
        ]
        assert listed, done.stdout
        for name in ("disable_writes", "enable_writes", "temp_writes"):
            assert name in listed[0]


def test_bpython(project):
    pytest.importorskip("bpython", reason="bpython is an optional shell")
    screen = start(project, "bpython", DBROLE_SWITCH_TEST_LAPSE="2")
    try:
        screen.expect(r"dbrole-switch: READ-ONLY: default as ")
        screen.expect(r"\[read-only\] >>> ")
        screen.child.sendline(WRITE)
        # bpython moves the cursor instead of printing newlines.
        refused = screen.expect(r"Traceback|ReadOnly\w*Error: ").group(0)
        screen.expect(r"\[read-only\] >>> ")

        screen.child.sendline("enable_writes()")
        screen.password_prompt()
        screen.child.sendline(OWNER_PASSWORD)
        screen.expect(r"\[WRITES default\] >>> ")
        time.sleep(2.5)
        screen.child.sendline("writes_enabled()")
        lapsed = screen.expect(r"writes lapsed after 2 s idle[^\n]*?\.").group(0)
        screen.expect(r"False\s*\[read-only\] >>>")

        assert refused != "Traceback"
        assert "default read-only again" in lapsed
    finally:
        screen.close()


def test_shell_plus_with_the_extension(project):
    pytest.importorskip("django_extensions", reason="django-extensions is optional")
    child = pexpect.spawn(
        sys.executable,
        [str(MANAGE), "shell_plus", "--ipython"],
        env={
            **project.env,
            "DBROLE_SWITCH_TEST_SHELL_PLUS": "1",
            # What the extension's docs tell shell_plus users to set.
            "IPYTHON_ARGUMENTS": "--ext dbrole_switch.ipython",
        },
        encoding="utf-8",
        dimensions=(40, 250),
        timeout=TIMEOUT,
    )
    screen = Screen(child, "ipython")
    try:
        banner = screen.expect(r"dbrole-switch: READ-ONLY: [^\n]*").group(0)
        _, marker = screen.until_prompt()

        refused, _ = screen.run(WRITE)
        status, _ = screen.run("%writes status")

        assert f"default as {project.reader}" in banner
        assert marker == "read-only"
        assert REFUSED.search(refused), refused
        assert f"default: read-only as {project.reader}" in status
    finally:
        screen.close()
