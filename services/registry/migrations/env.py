"""alembic environment of the registry service: see shared/migrations.py."""

from shared.migrations_env import run

run()
