"""Alembic environment of this service's database; the connection is handed over at start."""

from alembic import context

from shared.db import run_migrations_online

run_migrations_online(context)
