"""Engines, transactions and migrations for SQLite and PostgreSQL.

SQLite needs care to be race-safe: the driver's implicit transactions are switched off and every
transaction is started explicitly, write transactions with ``BEGIN IMMEDIATE`` so that two writers
queue on the busy timeout instead of both reading, then one failing (or both writing) at commit.
On PostgreSQL, confirmations lock rows instead (``SELECT ... FOR UPDATE``, see :mod:`.shop`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from shopagent.agent.store.schema import AuditEntry, Base, Product, User

if TYPE_CHECKING:
    from alembic.config import Config

BUSY_TIMEOUT_MS = 30_000
_WRITE = "shopagent_write"


def create_engine(url: str | sa.URL, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys, a busy timeout and explicit BEGINs."""
    url = sa.make_url(url)
    if url.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True, **kwargs)
    memory = url.database in (None, "", ":memory:")
    if memory:  # one shared connection, or every connection would see its own empty database
        kwargs.setdefault("poolclass", StaticPool)
        kwargs.setdefault("connect_args", {"check_same_thread": False})
    else:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_conn: Any, _: Any) -> None:
        dbapi_conn.isolation_level = None  # no implicit BEGIN: the "begin" hook below issues it
        for pragma in (
            "foreign_keys = ON",
            f"busy_timeout = {BUSY_TIMEOUT_MS}",
            "journal_mode = WAL",
            "synchronous = NORMAL",
        ):
            dbapi_conn.execute(f"PRAGMA {pragma}")

    @event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        write = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


@contextmanager
def transaction(engine: Engine, *, write: bool = False) -> Iterator[Session]:
    """A session inside one transaction.

    A ``write`` transaction commits when the block ends without error. Anything else is rolled back
    when the session closes, so a read (or a preview that changed objects in memory) never writes.
    """
    bind = engine.execution_options(**{_WRITE: True}) if write else engine
    with Session(bind, expire_on_commit=False, autoflush=write) as session:
        session.begin()
        yield session
        if write:
            session.commit()


def alembic_config(connection: sa.Connection) -> Config:
    """Alembic configured for the migrations shipped inside the package, on ``connection``."""
    logging.getLogger("alembic").setLevel(logging.WARNING)  # before importing it: its INFO lines are noise
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(files("shopagent.agent.store") / "migrations"))
    config.attributes["connection"] = connection
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest Alembic revision."""
    with engine.begin() as conn:
        config = alembic_config(conn)
        from alembic import command

        command.upgrade(config, "head")


def is_empty(engine: Engine) -> bool:
    """True when the store holds no products and no users (a fresh database)."""
    with transaction(engine) as db:
        return db.scalar(select(Product.product_id).limit(1)) is None and (
            db.scalar(select(User.user_id).limit(1)) is None
        )


def clear(db: Session) -> None:
    """Delete all shop data except the audit log, which is append-only by design."""
    for table in reversed(Base.metadata.sorted_tables):
        if table.name != AuditEntry.__tablename__:
            db.execute(table.delete())
