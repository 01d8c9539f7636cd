"""Fixtures that several test folders share, built once per session (a plugin of tests/conftest.py;
not named ``fixtures``: that is pytest's own plugin, so the name would be silently skipped).

A fixture defined in one folder's conftest and imported into another's is a second fixture with its
own session instance: the intent classifier was trained, Whisper loaded and PostgreSQL started twice.
Here they exist once for the whole suite.

PostgreSQL: ``SHOPAGENT_TEST_POSTGRES_URL`` (a server whose user may create databases) if set, else a
server started here from the PostgreSQL binaries, as the ``postgres`` user when running as root
(initdb refuses root), on a free port, with fsync off, and removed at the end. Without binaries the
postgres half is skipped, except under ``CI``, where that is a failure.

Expensive state is built once per session into templates (a migrated empty store; a store with τ²
imported): each test gets a copy (a file copy for SQLite, ``CREATE DATABASE ... TEMPLATE`` for
PostgreSQL), so tests never see each other's changes.
"""

from __future__ import annotations

import getpass
import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from shopagent.agent.intents import IntentClassifier
from shopagent.agent.store.db import create_engine, migrate
from shopagent.agent.store.shop import Shop
from shopagent.agent.store.tau2 import import_tau2
from shopagent.settings import Settings
from store.helpers import World

# --- the agent: settings, the trained intent classifier, Whisper, the τ² store file -------------


@pytest.fixture(scope="session")
def agent_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = Settings(data_dir=tmp_path_factory.mktemp("agent-data"), llm="none")
    settings.ensure_dirs()
    return settings


@pytest.fixture(scope="session")
def intents(agent_settings: Settings) -> IntentClassifier:
    return IntentClassifier.load_or_train(agent_settings)


@pytest.fixture(scope="session")
def recognizer(agent_settings: Settings) -> object:
    from shopagent.speech.transcribe import load_recognizer

    return load_recognizer(agent_settings)


@pytest.fixture(scope="session")
def tau2_store_file(tau2_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The τ² data imported into a SQLite file once; tests copy it."""
    path = tmp_path_factory.mktemp("tau2") / "template.db"
    shop = Shop.open(f"sqlite:///{path}")
    import_tau2(shop.engine, tau2_dir / "db.json")
    shop.engine.dispose()
    return path


# --- stores on SQLite and PostgreSQL ------------------------------------------------------------


def _postgres_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """URL of a PostgreSQL server (maintenance database ``postgres``)."""
    if url := os.environ.get("SHOPAGENT_TEST_POSTGRES_URL"):
        yield url
        return
    bindir = _postgres_bin()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL binaries not found; CI must run the store tests on PostgreSQL")
        pytest.skip("PostgreSQL binaries (initdb) not found; set SHOPAGENT_TEST_POSTGRES_URL to use a server")
    # Not under pytest's private temp folder: the postgres user must be able to reach it.
    root = Path(tempfile.mkdtemp(prefix="shopagent-postgres-"))
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", _free_port()
    user = "postgres" if as_postgres else getpass.getuser()

    def run(*args: str) -> None:
        subprocess.run([*as_postgres, *args], check=True, capture_output=True)

    run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", user, "--no-sync", "-E", "UTF8")
    options = f"-p {port} -k {root} -h 127.0.0.1 -F -c full_page_writes=off -c max_connections=200"
    run(str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start")
    try:
        yield f"postgresql+psycopg://{user}@127.0.0.1:{port}/postgres"
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


class Databases:
    """Creates databases from named templates on one backend and drops them again."""

    def __init__(self, backend: str, make_url: Callable[[str], str], admin: Engine | None) -> None:
        self.backend = backend
        self._url = make_url
        self._admin = admin
        self._templates: set[str] = set()

    def create(self, template: str | None = None) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        if self._admin is None:
            if template:
                shutil.copyfile(self._path(template), self._path(name))
        else:
            with self._admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return name

    def url(self, name: str) -> str:
        return self._url(name)

    def _path(self, name: str) -> str:
        return self._url(name).removeprefix("sqlite:///")

    def drop(self, name: str) -> None:
        if self._admin is None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self._path(name)}{suffix}").unlink(missing_ok=True)
        else:
            with self._admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def template(self, name: str, build: Callable[[Engine], None]) -> str:
        """A template database built once per session by ``build`` (on a migrated store)."""
        if name not in self._templates:
            created = self.create()
            engine = create_engine(self.url(created))
            migrate(engine)
            build(engine)
            engine.dispose()  # a PostgreSQL template must have no open connections
            if self._admin is None:
                shutil.move(self._path(created), self._path(name))
            else:
                with self._admin.connect() as conn:
                    conn.exec_driver_sql(f'ALTER DATABASE "{created}" RENAME TO "{name}"')
            self._templates.add(name)
        return name


@pytest.fixture(scope="session")
def _sqlite_databases(tmp_path_factory: pytest.TempPathFactory) -> Databases:
    root = tmp_path_factory.mktemp("sqlite")
    return Databases("sqlite", lambda name: f"sqlite:///{root / name}.db", None)


@pytest.fixture(scope="session")
def _postgres_databases(postgres_server: str) -> Iterator[Databases]:
    admin = sa.create_engine(postgres_server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    base = sa.make_url(postgres_server)
    yield Databases("postgres", lambda name: base.set(database=name).render_as_string(hide_password=False), admin)
    admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def databases(request: pytest.FixtureRequest) -> Databases:
    """The backend under test (every store test runs once per backend)."""
    return request.getfixturevalue(f"_{request.param}_databases")


def engine_from(databases: Databases, template: str) -> Iterator[Engine]:
    """A fresh copy of ``template``, dropped afterwards."""
    name = databases.create(template)
    engine = create_engine(databases.url(name))
    try:
        yield engine
    finally:
        engine.dispose()
        databases.drop(name)


@pytest.fixture(scope="session")
def tau2_template(databases: Databases, tau2_dir: Path) -> str:
    return databases.template("tau2", lambda engine: import_tau2(engine, tau2_dir / "db.json"))


@pytest.fixture
def tau2_engine(databases: Databases, tau2_template: str) -> Iterator[Engine]:
    """A fresh store holding the τ² retail database (and the benchmark's policy)."""
    yield from engine_from(databases, tau2_template)


@pytest.fixture(scope="session")
def world(tau2_dir: Path) -> World:
    """The original τ² data, to pick records from by property."""
    return World(json.loads((tau2_dir / "db.json").read_text()))
