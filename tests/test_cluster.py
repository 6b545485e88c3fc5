from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psycopg
import pytest
from conftest import Server

from dbrole_switch.cluster import Binaries, Cluster, ClusterError, find_binaries


def _process_user(pid: int) -> str:
    out = subprocess.run(
        ["ps", "-o", "user=", "-p", str(pid)], capture_output=True, text=True
    )
    return out.stdout.strip()


def _alive(pid: int) -> bool:
    """Whether *pid* runs; a zombie waiting for init to reap it does not count."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


@pytest.fixture(scope="module")
def binaries() -> Binaries:
    try:
        return find_binaries()
    except ClusterError as exc:
        if os.environ.get("CI"):
            pytest.fail(str(exc))
        pytest.skip(str(exc))


def test_cluster_uses_scram_and_rejects_a_wrong_password(binaries: Binaries) -> None:
    with Cluster(binaries) as cluster:
        with psycopg.connect(cluster.url) as conn:
            method = conn.execute(
                "SELECT auth_method FROM pg_hba_file_rules WHERE type = 'host' LIMIT 1"
            ).fetchone()

        with pytest.raises(psycopg.OperationalError, match="password authentication"):
            psycopg.connect(cluster.url_for(cluster.superuser, "not-the-password"))

    assert method == ("scram-sha-256",)


def test_cluster_runs_as_non_root_and_leaves_nothing(binaries: Binaries) -> None:
    cluster = Cluster(binaries)

    with cluster:
        pid = cluster.pid
        base = cluster.base
        user = _process_user(pid or 0)

    assert pid is not None and base is not None
    assert user and user != "root"
    assert not _alive(pid)
    assert not base.exists()


def test_cluster_stops_when_an_exception_escapes(binaries: Binaries) -> None:
    cluster = Cluster(binaries)

    def fail_inside() -> None:
        with cluster:
            pids.append(cluster.pid)
            raise RuntimeError("boom")

    pids: list[int | None] = []
    with pytest.raises(RuntimeError):
        fail_inside()

    pid = pids[0]
    assert pid is not None and not _alive(pid)


def test_cluster_is_removed_when_its_process_is_killed(binaries: Binaries) -> None:
    script = textwrap.dedent(
        f"""
        import os, sys
        from pathlib import Path
        from dbrole_switch.cluster import Cluster, Binaries
        c = Cluster(Binaries(Path({str(binaries.bindir)!r}), {binaries.version}, "t"))
        c.start()
        print(c.pid, c.base, flush=True)
        os.kill(os.getpid(), 9)
        """
    )

    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    pid_text, base = out.stdout.split()
    pid = int(pid_text)
    _wait_gone(pid, base)

    assert not _alive(pid)
    assert not os.path.exists(base)


def test_server_fixture_is_real(pg_server: Server, needs_password_auth: None) -> None:
    with psycopg.connect(pg_server.url) as conn:
        version = conn.info.server_version // 10000

    assert version == pg_server.version
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(pg_server.url_for("postgres", "wrong-password"))


def _wait_gone(pid: int, base: str) -> None:
    for _ in range(100):
        if not _alive(pid) and not os.path.exists(base):
            return
        time.sleep(0.1)


def test_cluster_is_removed_on_ctrl_c(binaries: Binaries) -> None:
    script = textwrap.dedent(
        f"""
        import time
        from pathlib import Path
        from dbrole_switch.cluster import Cluster, Binaries
        b = Binaries(Path({str(binaries.bindir)!r}), {binaries.version}, "t")
        with Cluster(b) as c:
            print(c.pid, c.base, flush=True)
            time.sleep(60)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    pid_text, base = proc.stdout.readline().split()

    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=30)
    proc.stdout.close()
    _wait_gone(int(pid_text), base)

    assert not _alive(int(pid_text))
    assert not os.path.exists(base)


def test_explicit_directory_without_server_binaries_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ClusterError, match="does not hold initdb"):
        find_binaries(tmp_path)
