"""Local seeding: reproducible randomness that never changes the caller's global RNG state.

A trainer that calls ``torch.manual_seed(seed)`` re-seeds the *caller's* global torch RNG as
a side effect: an experiment that trains a reward model between two rollouts silently gets
the same "random" actions every time.  :func:`seeded` gives local randomness instead:

* a fresh NumPy :class:`numpy.random.Generator` (``np.random.default_rng(seed)``), yielded;
* for torch, a fork of the global RNG (``torch.random.fork_rng``) seeded with ``seed`` inside
  the block and restored on exit, so weight initialisation and sampling inside the block are
  reproducible and the caller's ``torch.initial_seed()`` / ``torch.get_rng_state()`` are
  unchanged afterwards.

torch is imported only when the block asks for it, so ``rewardkit.core`` stays torch-free.
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Iterator

import numpy as np

from .errors import ConfigError

__all__ = ["seeded"]


def _check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or int(seed) < 0:
        raise ConfigError("seed", f"got {seed!r}", "a non-negative int")
    return int(seed)


@contextlib.contextmanager
def seeded(seed: int, torch: bool | None = None) -> Iterator[np.random.Generator]:
    """Run a block with local, seeded randomness; yields ``np.random.default_rng(seed)``.

    Args:
        seed: a non-negative int.
        torch: ``None`` (default) also forks and seeds torch's global CPU RNG if torch is
            installed; ``True`` requires torch; ``False`` gives the NumPy generator only.

    Inside the block, ``torch.rand`` & co. draw from a generator seeded with ``seed``
    (:math:`\\text{state}_{in} = \\text{seed}`); on exit the caller's state is restored
    (:math:`\\text{state}_{out} = \\text{state}_{before}`), whatever the block did.

    Example:
        >>> import torch
        >>> before = torch.get_rng_state()
        >>> with seeded(0) as rng: a, x = torch.rand(2), rng.random()
        >>> with seeded(0) as rng: b, y = torch.rand(2), rng.random()
        >>> bool(torch.equal(a, b)), x == y, bool(torch.equal(torch.get_rng_state(), before))
        (True, True, True)
    """
    s = _check_seed(seed)
    rng = np.random.default_rng(s)
    if torch is False or (torch is None and importlib.util.find_spec("torch") is None):
        yield rng
        return
    import torch as _torch  # lazily: core must not import torch

    with _torch.random.fork_rng(devices=[]):
        _torch.manual_seed(s)
        yield rng
