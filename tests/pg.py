"""A throwaway PostgreSQL cluster for the tests: Debian's server binaries (`apt-get install postgresql`),
`initdb` in a temporary folder (as `nobody` when the tests run as root: the server refuses root), started
on a free port of 127.0.0.1 with fsync off, stopped and deleted at the end of the session. Each test gets
its own database.

Authentication: the `postgres` superuser is trusted over TCP (what the tests use); any other role needs its
password (scram), which is what the wrong-password and missing-rights tests exercise.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

# Where the cluster cannot start, tests/conftest.py reports PostgreSQL as a missing component
# (tests/components.py): a loud skip, or a failure under SARAPAY_REQUIRE_COMPONENTS=1 (.ci/run).


def find_bin_dir() -> Path | None:
    explicit = os.environ.get("SARAPAY_PG_BIN")
    if explicit:
        return Path(explicit)
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if candidates:
        return Path(candidates[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self) -> None:
        self.base: Path | None = None
        self.port = 0
        self.bin: Path | None = None
        self._prefix: list[str] = []
        self._names = itertools.count(1)

    def start(self) -> None:
        self.bin = find_bin_dir()
        if self.bin is None or not (self.bin / "initdb").exists():
            raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")
        self.base = Path(tempfile.mkdtemp(prefix="sarapay-pg-"))
        if os.geteuid() == 0:  # the server refuses to run as root
            os.chown(self.base, 65534, 65534)
            self._prefix = ["runuser", "-u", "nobody", "--"]
        data, log = self.base / "data", self.base / "server.log"
        self._run(str(self.bin / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--locale=C", "-N")
        (data / "pg_hba.conf").write_text(
            "local all all trust\n"
            "host all postgres 127.0.0.1/32 trust\n"
            "host all all 127.0.0.1/32 scram-sha-256\n"
        )
        self.port = free_port()
        options = (f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=32MB")
        self._run(str(self.bin / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60", "-o", options, "start")

    def _run(self, *args: str) -> None:
        result = subprocess.run([*self._prefix, *args], capture_output=True, text=True, cwd="/", timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{Path(args[0]).name} failed: {(result.stderr or result.stdout).strip()[-500:]}")

    def url(self, database: str = "postgres", user: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def admin(self, *statements: str, database: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)

    def create_database(self) -> str:
        name = f"t{os.getpid()}_{next(self._names)}"
        self.admin(f"CREATE DATABASE {name} TEMPLATE template0 STRATEGY FILE_COPY")
        return name

    def drop_database(self, name: str) -> None:
        try:
            self.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        except Exception:
            pass

    def stop(self) -> None:
        if self.base is None:
            return
        try:
            if self.bin is not None and (self.base / "data" / "postmaster.pid").exists():
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.base / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)
            self.base = None


def start_or_reason() -> tuple[Cluster | None, str | None]:
    cluster = Cluster()
    started = time.monotonic()
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        return None, f"psycopg is not installed ({exc})"
    try:
        cluster.start()
    except Exception as exc:  # no binaries, no runuser, initdb or the server failing
        cluster.stop()
        return None, f"{exc} (after {time.monotonic() - started:.1f} s)"
    return cluster, None
