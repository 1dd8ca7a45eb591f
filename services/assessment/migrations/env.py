"""alembic environment of the assessment service: see shared/migrations.py."""

from shared.migrations_env import run

run()
