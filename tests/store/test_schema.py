"""The migration builds exactly the models' schema, and the audit log is append-only in the database."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

from shopagent.agent.store.db import alembic_config, migrate, transaction
from shopagent.agent.store.demo import DemoOptions, load_demo
from shopagent.agent.store.schema import AuditEntry, Base, utcnow
from shopagent.agent.store.shop import Shop
from shopagent.agent.store.tau2 import export_tau2


@pytest.mark.filterwarnings("ignore:.*expression-based index")  # SQLite cannot reflect lower(email)
def test_migration_matches_the_models(empty_engine: Engine) -> None:
    with empty_engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


@pytest.mark.filterwarnings("ignore:.*expression-based index")  # SQLite batch mode reflects users
def test_downgrade_to_nothing_and_back(empty_engine: Engine) -> None:
    with empty_engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    assert set(sa.inspect(empty_engine).get_table_names()) <= {"alembic_version"}
    migrate(empty_engine)
    assert set(Base.metadata.tables) <= set(sa.inspect(empty_engine).get_table_names())
    _assert_append_only(empty_engine)  # the triggers come back too


def test_audit_log_is_append_only(empty_engine: Engine) -> None:
    _assert_append_only(empty_engine)


def _assert_append_only(engine: Engine) -> None:
    with transaction(engine, write=True) as db:
        db.add(AuditEntry(at=utcnow(), actor="test", kind="change", tool="t", arguments={}, outcome={}))
    statements = ["UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"]
    if engine.dialect.name == "postgresql":
        statements.append("TRUNCATE audit_log")
    for statement in statements:
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            with engine.begin() as conn:
                conn.exec_driver_sql(statement)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT actor FROM audit_log").scalars().all() == ["test"]


def test_in_memory_sqlite_store() -> None:
    shop = Shop.open("sqlite://")  # one shared connection, so every session sees the same database
    load_demo(shop.engine, DemoOptions(products=15, users=4, today=date(2026, 1, 15)))
    user = next(iter(export_tau2(shop.engine)["users"].values()))
    session = shop.session()
    assert session.find_user_id_by_email(user["email"]) == user["user_id"]
    assert session.get_user_details(user["user_id"]) == user
