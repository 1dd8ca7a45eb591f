"""alembic environment of the penalty service: see shared/migrations.py."""

from shared.migrations_env import run

run()
