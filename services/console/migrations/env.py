"""alembic environment of the console service: see shared/migrations.py."""

from shared.migrations_env import run

run()
