"""A registry of named reward terms, so configs can build rewards without ``eval``.

A factory is registered under a name; a config refers to it by ``type:`` and passes
``params:``.  Capability packages (``rewardkit.shaping``, ``rewardkit.explore``,
``rewardkit.verify`` …) register their terms when imported; :func:`get_factory`
imports them on first use of an unknown name, so a config can name any built-in
term without importing anything first.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from typing import Any, Callable

from .errors import ConfigError

__all__ = ["register_term", "get_factory", "available_terms", "TermSpec"]

#: packages imported (if their optional dependencies are installed) to find built-in terms
BUILTIN_PACKAGES = (
    "rewardkit.core.builtin",
    "rewardkit.shaping",
    "rewardkit.explore",
    "rewardkit.verify",
    "rewardkit.spec",
    "rewardkit.learn",
    "rewardkit.audit",
    "rewardkit.credit",
    "rewardkit.integrations.minigrid",
)


@dataclass(frozen=True)
class TermSpec:
    """A registered factory and what it accepts."""

    name: str
    factory: Callable[..., Any]
    batch_kind: str
    summary: str
    #: the term has a ``gamma`` that must equal the learner's discount (potential-based shaping)
    uses_discount: bool = False

    def parameters(self) -> dict[str, inspect.Parameter]:
        sig = inspect.signature(self.factory)
        return {k: p for k, p in sig.parameters.items()
                if k not in ("self", "name") and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}


_REGISTRY: dict[str, TermSpec] = {}
_LOADED = False


def register_term(name: str, factory: Callable[..., Any] | None = None, *, batch_kind: str = "any",
                  overwrite: bool = False, uses_discount: bool = False):
    """Register ``factory`` (a class or function returning a RewardTerm) as ``name``.

    Usable as a decorator::

        @register_term("answer_length", batch_kind="sample")
        class AnswerLength(RewardTerm): ...

    Example:
        >>> from rewardkit.core import Constant, register_term
        >>> _ = register_term("doc_constant", lambda value=1.0, name="c": Constant(value, name), overwrite=True)
    """

    def deco(f: Callable[..., Any]) -> Callable[..., Any]:
        if name in _REGISTRY and not overwrite and _REGISTRY[name].factory is not f:
            raise ValueError(f"term type {name!r} is already registered")
        doc = (inspect.getdoc(f) or "").strip().splitlines()
        _REGISTRY[name] = TermSpec(name, f, batch_kind, doc[0] if doc else "", uses_discount)
        return f

    if factory is not None:
        return deco(factory)
    return deco


def _load_builtins() -> None:
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    for mod in BUILTIN_PACKAGES:
        try:
            pkg = importlib.import_module(mod)
        except ImportError:
            continue  # optional extra not installed
        hook = getattr(pkg, "register_terms", None)
        if callable(hook):  # packages that keep heavy modules out of their import register them here
            hook()


def get_factory(name: str, field: str = "type") -> TermSpec:
    """Look up a registered term type; a :class:`ConfigError` lists the known names."""
    if name not in _REGISTRY:
        _load_builtins()
    if name not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise ConfigError(field, f"unknown term type {name!r}", f"one of: {known}")
    return _REGISTRY[name]


def available_terms() -> dict[str, TermSpec]:
    """All registered term types (built-ins included)."""
    _load_builtins()
    return dict(sorted(_REGISTRY.items()))
