"""Throwaway PostgreSQL and Redis servers for the tests, and fresh databases on either backend.

Real servers, started from the Debian binaries (`scripts/system_deps.sh` installs them), each in
a temporary directory, on a free port, and removed again when stopped:

    with PostgresServer.start() as postgres:        # initdb + pg_ctl, fsync off
        url = postgres.create_database()             # "postgresql+psycopg2://postgres@127.0.0.1:PORT/db_1"
        postgres.create_database("copy", template="db_1")
        postgres.drop_database("copy")

    with RedisServer.start() as redis:               # redis-server, no persistence
        redis.url                                    # "redis://127.0.0.1:PORT/0"
        redis.flush()                                # FLUSHALL

`Databases` hands out fresh databases of one backend (SQLite files or databases on a
`PostgresServer`), copied from a template that is prepared once (migrations and seeds are
slow, copies are fast). The pytest fixtures around all this are in `tests/conftest.py`.
"""
from __future__ import annotations

import itertools
import os
import pwd
import shutil
import sqlite3
import subprocess
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from scripts import runtime
from scripts.runtime import free_port, start_process, stop_process

INSTALL_HINT = (
    "run `scripts/system_deps.sh` as root (`make test` does) or install the Debian packages "
    "postgresql and redis-server yourself"
)
# Who runs PostgreSQL when the tests run as root (initdb and postgres refuse to run as root).
POSTGRES_USERS = ("postgres", "nobody")
STARTUP_SECONDS = 30.0


class ServerUnavailable(RuntimeError):
    """A server's binaries are missing or it did not start; the message says what to do."""


def postgres_bin_dir() -> Path:
    directory = runtime.postgres_bin_dir()
    if directory is None:
        raise ServerUnavailable(f"no PostgreSQL server binaries (initdb, pg_ctl) in /usr/lib/postgresql/*/bin: {INSTALL_HINT}")
    return directory


def _unprivileged_user() -> pwd.struct_passwd | None:
    """The account to run PostgreSQL as: None when we are not root, else `postgres` or `nobody`."""
    if os.geteuid() != 0:
        return None
    for name in POSTGRES_USERS:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise ServerUnavailable(f"running as root, but none of the users {', '.join(POSTGRES_USERS)} exists to run PostgreSQL")


@dataclass
class PostgresServer:
    """A running PostgreSQL cluster of its own; superuser `postgres`, trust authentication.

    It listens on 127.0.0.1:`port` and on a unix socket in its directory (`socket_dir`), which
    `psql -h <socket_dir> -p <port> -U postgres` can use too.
    """

    directory: Path
    port: int
    bin_dir: Path
    run_as: pwd.struct_passwd | None = None
    _names: itertools.count = field(default_factory=lambda: itertools.count(1), repr=False)

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    @property
    def socket_dir(self) -> Path:
        return self.directory

    @property
    def log_file(self) -> Path:
        return self.directory / "postgres.log"

    def url(self, database: str = "postgres") -> str:
        """A SQLAlchemy URL of `database` (TCP, so every client can use it, Rasa's included)."""
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{database}"

    @classmethod
    def start(cls, port: int | None = None) -> "PostgresServer":
        """initdb into a new temporary directory and start the server there (waits until ready)."""
        bin_dir = postgres_bin_dir()
        run_as = _unprivileged_user()
        # Not under pytest's tmp_path: that is private to root, and the server runs as `postgres`.
        directory = Path(tempfile.mkdtemp(prefix="bolt-postgres-"))
        if run_as is not None:
            os.chown(directory, run_as.pw_uid, run_as.pw_gid)
        server = cls(directory=directory, port=port or free_port(), bin_dir=bin_dir, run_as=run_as)
        try:
            server._initdb()
            server._pg_ctl("start", "--wait", f"--timeout={int(STARTUP_SECONDS)}",
                           "--log", str(server.log_file), "--options", server._options())
        except BaseException:
            server.stop()
            raise
        return server

    def _options(self) -> str:
        # A throwaway cluster: durability off for speed; enough connections for a few services.
        settings = {
            "port": self.port, "listen_addresses": "127.0.0.1", "unix_socket_directories": self.socket_dir,
            "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
            "max_connections": 200, "shared_buffers": "32MB", "log_min_messages": "warning",
        }
        return " ".join(f"-c {key}={value}" for key, value in settings.items())

    def _run(self, *command: str) -> subprocess.CompletedProcess:
        user = {} if self.run_as is None else {
            "user": self.run_as.pw_uid, "group": self.run_as.pw_gid, "extra_groups": []}
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8",
               "HOME": str(self.directory)}
        done = subprocess.run(command, cwd=self.directory, env=env, capture_output=True, text=True, **user)
        if done.returncode != 0:
            log = self.log_file.read_text(errors="replace")[-2000:] if self.log_file.exists() else ""
            raise ServerUnavailable(
                f"{Path(command[0]).name} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}\n{log}"
            )
        return done

    def _initdb(self) -> None:
        self._run(str(self.bin_dir / "initdb"), "--pgdata", str(self.data_dir), "--username", "postgres",
                  "--auth", "trust", "--encoding", "UTF8", "--locale", "C.UTF-8", "--no-sync")

    def _pg_ctl(self, *arguments: str) -> None:
        self._run(str(self.bin_dir / "pg_ctl"), "--pgdata", str(self.data_dir), "--silent", *arguments)

    def stop(self) -> None:
        """Stop the server (immediately: nothing in it is kept) and remove its directory."""
        if (self.data_dir / "postmaster.pid").exists():
            try:
                self._pg_ctl("stop", "--mode", "immediate", "--wait")
            except ServerUnavailable:
                pass  # already gone; the directory goes anyway
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> "PostgresServer":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def version(self) -> int:
        """The server's major version (from the data directory, so no query needed)."""
        return int((self.data_dir / "PG_VERSION").read_text().strip())

    def execute(self, statement: str) -> None:
        """Run one statement as the superuser, outside a transaction (CREATE/DROP DATABASE)."""
        import psycopg2

        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres")
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(statement)
        finally:
            connection.close()

    def create_database(self, name: str | None = None, template: str | None = None) -> str:
        """A new database (an empty one, or a copy of `template`); returns its URL.

        A template must have no open connections while it is copied: dispose its engines first.
        """
        name = name or f"db_{next(self._names)}"
        source = ""
        if template:
            # A plain file copy is a little faster than PostgreSQL 15's default (WAL_LOG) here.
            source = f" TEMPLATE {_identifier(template)}" + (" STRATEGY FILE_COPY" if self.version >= 15 else "")
        self.execute(f"CREATE DATABASE {_identifier(name)}{source}")
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop `name`, closing whatever connections are still open to it."""
        self.execute(f"DROP DATABASE IF EXISTS {_identifier(name)} WITH (FORCE)")


def _identifier(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a plain database name: {name!r}")
    return f'"{name}"'


@dataclass
class RedisServer:
    """A running redis-server of its own: no snapshots, no append-only file, 127.0.0.1 only."""

    directory: Path
    port: int
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @classmethod
    def start(cls, port: int | None = None) -> "RedisServer":
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(binary).exists():
            raise ServerUnavailable(f"no redis-server on PATH or in /usr/bin: {INSTALL_HINT}")
        directory = Path(tempfile.mkdtemp(prefix="bolt-redis-"))
        port = port or free_port()
        process = start_process(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(directory), "--daemonize", "no"],
            directory / "redis.log", cwd=directory,
        )
        server = cls(directory=directory, port=port, process=process)
        try:
            server._wait_until_ready()
        except BaseException:
            server.stop()
            raise
        return server

    def _wait_until_ready(self) -> None:
        from redis.exceptions import ConnectionError, TimeoutError

        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline and self.process.poll() is None:
            client = self.client()
            try:
                if client.ping():
                    return
            except (ConnectionError, TimeoutError):
                time.sleep(0.05)
            finally:
                client.close()
        log = (self.directory / "redis.log").read_text(errors="replace")[-2000:]
        raise ServerUnavailable(f"redis-server did not start on port {self.port}:\n{log}")

    def client(self):
        """A redis-py client of database 0 (close it when done)."""
        import redis

        return redis.Redis.from_url(self.url, socket_connect_timeout=2)

    def flush(self) -> None:
        """Empty every database of the server."""
        client = self.client()
        try:
            client.flushall()
        finally:
            client.close()

    def stop(self) -> None:
        stop_process(self.process)
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> "RedisServer":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


Prepare = Callable[[str], None]
BACKENDS = ("sqlite", "postgresql")


class Databases:
    """Fresh databases of one backend: SQLite files under `directory`, or databases on `postgres`.

    `fresh(template, prepare)` returns the URL of a new database: an empty one without a
    template; else a copy of the template database named `template`, which `prepare(url)` fills
    on first use (it must leave no connection open: dispose its engines). `drop(url)` removes a
    database again once its test is over (`wait()` until it is gone); `close()` finishes the
    work still under way.

    On PostgreSQL a copy costs a CREATE DATABASE (tens of milliseconds, far more on a busy
    machine), so the next copy of the same template is made in a background thread while the
    test that got this one runs, and drops happen there too: the server works on the other core.
    """

    def __init__(self, *, directory: Path | None = None, postgres: PostgresServer | None = None) -> None:
        if (directory is None) == (postgres is None):
            raise ValueError("give either a directory (SQLite) or a PostgreSQL server")
        self.directory = directory
        self.postgres = postgres
        self.backend = "sqlite" if postgres is None else "postgresql"
        self._templates: dict[str, str] = {}
        self._names = itertools.count(1)
        self._background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="databases")
        self._ahead: dict[str | None, Future[str]] = {}
        self._drops: list[Future[None]] = []
        self._retired: list[str] = []

    def fresh(self, template: str | None = None, prepare: Prepare | None = None) -> str:
        self._drop_retired()
        if template is not None and template not in self._templates:
            url = self._create(f"template_{template}")
            if prepare is not None:
                prepare(url)
            self._templates[template] = url
        if self.postgres is None:
            return self._copy(template)
        ready = self._ahead.pop(template, None) or self._background.submit(self._copy, template)
        self._ahead[template] = self._background.submit(self._copy, template)
        return ready.result()

    def _copy(self, template: str | None) -> str:
        return self._create(f"test_{next(self._names)}", copy_of=self._templates.get(template))

    def _create(self, name: str, copy_of: str | None = None) -> str:
        if self.postgres is not None:
            return self.postgres.create_database(name, template=copy_of and database_name(copy_of))
        path = self.directory / f"{name}.db"
        if copy_of is not None:
            _copy_sqlite(Path(database_name(copy_of)), path)
        return f"sqlite:///{path}"

    def drop(self, url: str) -> None:
        """Drop `url` once the test that used it is over, at the next `fresh()` or `wait()`.

        A test's fixtures end in no particular order relative to its database's: an app may
        still be shutting down (and writing) when the database's fixture ends.
        """
        self._retired.append(url)

    def _drop_retired(self) -> None:
        for done in [done for done in self._drops if done.done()]:
            done.result()  # a failed drop is reported at the next one
            self._drops.remove(done)
        while self._retired:
            url = self._retired.pop()
            if self.postgres is not None:
                self._drops.append(self._background.submit(self.postgres.drop_database, database_name(url)))
                continue
            for suffix in ("", "-wal", "-shm"):
                Path(f"{database_name(url)}{suffix}").unlink(missing_ok=True)

    def wait(self) -> None:
        """Drop what was given to `drop`, and finish the background work (raising its first error)."""
        self._drop_retired()
        for done in [*self._drops, *self._ahead.values()]:
            done.result()
        self._drops.clear()

    def close(self) -> None:
        """Drop what is left, the copies made ahead included, and stop the background thread."""
        try:
            self.wait()
            self._retired.extend(made.result() for made in self._ahead.values())
            self._ahead.clear()
            self.wait()
        finally:
            self._background.shutdown(wait=True)


def database_name(url: str) -> str:
    """The database of a SQLAlchemy URL: its name on PostgreSQL, its file's path on SQLite."""
    from sqlalchemy.engine import make_url

    return make_url(url).database


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database, whatever its WAL still holds (backup API)."""
    with closing(sqlite3.connect(source)) as original, closing(sqlite3.connect(target)) as copy:
        original.backup(copy)
