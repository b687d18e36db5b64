"""Optional dependencies: one place that imports them and names the extra that installs them.

``pip install rewardkit`` installs only what the reward protocol and its composition need
(NumPy, PyYAML).  Everything else comes with an *extra* (``pip install 'rewardkit[env]'``,
see ``docs/install.md``).  A module that needs an optional package imports it through
:func:`require`, so a missing package is one line naming the extra, not a bare
``ModuleNotFoundError``; a package whose submodules need extras keeps them out of its own
import with :func:`lazy_getattr` (PEP 562), so ``import rewardkit.<package>`` never needs them.

:class:`MissingExtraError` is an :class:`ImportError`, so code that already treats a
missing optional module as "feature unavailable" keeps doing so.

Example:
    >>> from rewardkit.core.extras import MissingExtraError, require
    >>> require("json", extra="core").__name__           # an installed module is returned
    'json'
    >>> try:
    ...     require("no_such_module_rk", extra="env")
    ... except MissingExtraError as e:
    ...     print(e)
    no_such_module_rk is not installed; it comes with the 'env' extra: pip install 'rewardkit[env]'
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from .errors import RewardkitError

__all__ = ["EXTRAS", "MissingExtraError", "lazy_getattr", "require"]

#: the extra that installs each optional top-level module (used when a caller does not name one)
EXTRAS: dict[str, str] = {
    "gymnasium": "env", "minigrid": "env",
    "stable_baselines3": "rl", "tensorboard": "rl",
    "torch": "learn",
    "scipy": "lp",
    "matplotlib": "report", "rich": "report",
    "math_verify": "llm", "sympy": "llm", "sqlglot": "llm", "jsonschema": "llm", "regex": "llm", "httpx": "llm",
    "trl": "trl", "transformers": "trl",
    "fastapi": "server", "uvicorn": "server",
}


class MissingExtraError(RewardkitError, ModuleNotFoundError):
    """An optional package is not installed; the one-line message names the extra that installs it.

    Example:
        >>> from rewardkit.core.extras import MissingExtraError
        >>> str(MissingExtraError("torch", "learn"))
        "torch is not installed; it comes with the 'learn' extra: pip install 'rewardkit[learn]'"
    """

    def __init__(self, module: str, extra: str):
        self.module, self.extra = module, extra
        super().__init__(f"{module} is not installed; it comes with the {extra!r} extra: pip install 'rewardkit[{extra}]'")
        self.name = module


def require(module: str, extra: str | None = None) -> ModuleType:
    """Import ``module`` (``"scipy.optimize"`` …); if it (or a package it needs) is missing, raise
    :class:`MissingExtraError` naming ``extra`` (default: :data:`EXTRAS` of its top-level name).

    Example:
        >>> from rewardkit.core.extras import require
        >>> require("math").sqrt(4.0)
        2.0
    """
    top = module.split(".")[0]
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        missing = (e.name or top).split(".")[0]
        if isinstance(e, MissingExtraError) or (missing != top and missing not in EXTRAS):
            raise
        raise MissingExtraError(missing, extra or EXTRAS.get(missing) or EXTRAS.get(top, "all")) from None


def lazy_getattr(module: str, lazy: Mapping[str, str]) -> Callable[[str], Any]:
    """A module-level ``__getattr__`` (PEP 562) for ``module`` (pass ``__name__``): ``lazy`` maps a public
    name to the module that defines it (``".wrappers"`` relative to ``module``, or absolute), imported on
    first access and then kept in ``module``'s namespace (so the package imports without its extras).

    Example:
        >>> import rewardkit.core
        >>> from rewardkit.core.extras import lazy_getattr
        >>> get = lazy_getattr("rewardkit.core", {"gae": ".gae", "Schedule": "rewardkit.core.schedules"})
        >>> get("gae").__name__, get("Schedule").__name__
        ('gae', 'Schedule')
        >>> get("nope")
        Traceback (most recent call last):
        ...
        AttributeError: module 'rewardkit.core' has no attribute 'nope'
    """

    def __getattr__(name: str) -> Any:
        where = lazy.get(name)
        if where is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(where, module), name)
        setattr(sys.modules[module], name, value)  # the next access is a plain attribute
        return value

    return __getattr__


def missing_extra(error: ModuleNotFoundError, extra: str) -> ModuleNotFoundError:
    """The error to raise when a module-level import of an optional package failed: a
    :class:`MissingExtraError` naming ``extra``, or ``error`` itself if what is missing is not optional.

    Used as ``try: import gymnasium as gym`` / ``except ModuleNotFoundError as e: raise missing_extra(e, "env") from None``.

    Example:
        >>> from rewardkit.core.extras import missing_extra
        >>> try:
        ...     import torch_not_here_rk
        ... except ModuleNotFoundError as e:
        ...     print(type(missing_extra(e, "learn")).__name__)   # not an optional package: unchanged
        ModuleNotFoundError
        >>> print(missing_extra(ModuleNotFoundError("No module named 'torch'", name="torch"), "learn"))
        torch is not installed; it comes with the 'learn' extra: pip install 'rewardkit[learn]'
    """
    if isinstance(error, MissingExtraError):
        return error
    top = (error.name or "").split(".")[0]
    return MissingExtraError(top, extra) if top in EXTRAS else error
