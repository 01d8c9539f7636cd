"""Alembic environment: runs on the connection :func:`shopagent.agent.store.db.migrate` passes in,
or on ``sqlalchemy.url`` when driven by the ``alembic`` command (to write a new revision)."""

from alembic import context

from shopagent.agent.store.db import create_engine
from shopagent.agent.store.schema import Base

config = context.config


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    with create_engine(config.get_main_option("sqlalchemy.url")).begin() as conn:
        _run(conn)
