"""alembic environment of the sampling service: see shared/migrations.py."""

from shared.migrations_env import run

run()
