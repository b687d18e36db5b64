"""Fixtures shared across test folders.

Being in ``tests/``, this file also puts ``tests/`` on ``sys.path`` (pytest's prepend import mode),
so shared helper modules such as ``term_examples`` import by name from any folder.
"""

from __future__ import annotations

import pytest
import term_examples as tx
from ray_fixtures import ray_cluster, ray_local, ray_serve  # noqa: F401  (fixtures of the tests marked ray)


@pytest.fixture(scope="module")
def term_ctx(tmp_path_factory):
    """What the registered terms' builders need (trained files, a loopback judge, a sandbox), built once per module."""
    with tx.term_context(tmp_path_factory.mktemp("terms")) as c:
        yield c
