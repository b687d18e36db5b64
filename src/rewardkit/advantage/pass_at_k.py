"""The unbiased pass@k estimator (Chen et al., 2021, "Evaluating Large Language Models Trained on Code", Sec. 2.1).

With :math:`n` samples of a problem of which :math:`c` pass, the probability that at least one
of :math:`k` samples drawn without replacement passes is estimated without bias by

.. math:: \\widehat{\\mathrm{pass@}k} = 1 - \\binom{n - c}{k} \\Big/ \\binom{n}{k}
          = 1 - \\prod_{i = n - c + 1}^{n} \\Big(1 - \\frac{k}{i}\\Big)

(1 when :math:`n - c < k`), computed as the product so that large :math:`n` does not overflow.
The benchmark score is the mean over problems.  (The ``passk`` *advantage* of
:mod:`rewardkit.advantage.group` optimises this quantity; this module measures it.)

Example:
    >>> round(pass_at_k(10, 3, 1), 4), round(pass_at_k(10, 3, 5), 4), pass_at_k(10, 0, 5), pass_at_k(4, 2, 3)
    (0.3, 0.9167, 0.0, 1.0)
    >>> mean_pass_at_k([4, 4], [0, 4], 2)
    0.5
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["mean_pass_at_k", "pass_at_k"]


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k of one problem with ``n`` samples, ``c`` of them correct (``1 <= k <= n``).

    Example:
        >>> pass_at_k(5, 1, 6)
        Traceback (most recent call last):
        ...
        ValueError: k: got 6; expected 1 <= k <= n = 5
    """
    n, c, k = int(n), int(c), int(k)
    if not 1 <= k <= n:
        raise ValueError(f"k: got {k}; expected 1 <= k <= n = {n}")
    if not 0 <= c <= n:
        raise ValueError(f"c: got {c}; expected 0 <= c <= n = {n}")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def mean_pass_at_k(n: npt.ArrayLike, c: npt.ArrayLike, k: int) -> float:
    """pass@k averaged over problems (``n[i]`` samples, ``c[i]`` correct); problems with ``n < k`` are skipped."""
    ns, cs = np.asarray(n, dtype=int).reshape(-1), np.asarray(c, dtype=int).reshape(-1)
    if ns.shape != cs.shape:
        raise ValueError(f"c: has {cs.size} entries for {ns.size} problems; expected one count per problem")
    vals = [pass_at_k(a, b, k) for a, b in zip(ns, cs, strict=True) if a >= k]
    return float(np.mean(vals)) if vals else float("nan")
