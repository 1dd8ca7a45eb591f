from __future__ import annotations

import pytest

from tests.unit.console.support import Console, make_console


@pytest.fixture
def console(tmp_path) -> Console:  # noqa: ANN001
    return make_console(tmp_path)
