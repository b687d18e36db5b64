"""One registry mechanism for everything a config can name: terms, potentials, environments, learners.

A :class:`Registry` maps a name to a factory and records its kind and a one-line
summary (the first line of the factory's docstring).  A config refers to an entry by
name and passes it plain data, so nothing is ever ``eval``-ed.  Every registry of the
package is an instance of this one class:

* :data:`TERMS` - reward-term types (``type:`` in a reward config);
* :data:`POTENTIALS` - shaping potentials Φ (``potential:`` of ``potential_shaping``);
* :data:`ENVS` - environment factories (``env.id`` of an experiment);
* :data:`LEARNERS` - training loops (``learner.type`` of an experiment).

Rules shared by all four:

* a name is registered once; registering another factory under a taken name raises
  :class:`~rewardkit.core.errors.DuplicateNameError` unless ``override=True``
  (re-registering the *same* factory, e.g. when a module is imported twice, is a no-op);
* entries are loaded lazily: a registry imports its ``loaders`` (modules that
  register their entries when imported, and whose optional ``register_terms`` hook
  registers the heavy ones) the first time a name is missing or the list is read;
* an unknown name is a :class:`~rewardkit.core.errors.ConfigError` naming the field,
  the closest registered names and all of them.

Example:
    >>> from rewardkit.core.registry import Registry
    >>> shapes = Registry("shape")
    >>> @shapes.register("square")
    ... def square(side=1.0):
    ...     '''A square of the given side.'''
    ...     return side * side
    >>> shapes.get("square").factory(side=3.0), shapes.get("square").summary
    (9.0, 'A square of the given side.')
    >>> shapes.get("sqare")
    Traceback (most recent call last):
    ...
    rewardkit.core.errors.ConfigError: shape: unknown shape 'sqare' (did you mean 'square'?); expected one of: square
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from .errors import ConfigError, DuplicateNameError
from .extras import MissingExtraError

__all__ = ["ENVS", "LEARNERS", "POTENTIALS", "TERMS", "Entry", "Registry", "TermSpec", "all_registries",
           "available_terms", "get_factory", "load_plugins", "plain_summary", "register_term"]

E = TypeVar("E", bound="Entry")


@dataclass(frozen=True)
class Entry:
    """A registered factory: its name, the kind of registry it lives in and a plain one-line summary."""

    name: str
    factory: Callable[..., Any]
    kind: str
    summary: str = ""

    def parameters(self) -> dict[str, inspect.Parameter]:
        """The factory's keyword parameters (``self``, ``name``, ``*args`` and ``**kwargs`` left out)."""
        try:
            sig = inspect.signature(self.factory)
        except (TypeError, ValueError):  # builtins without a signature
            return {}
        return {k: p for k, p in sig.parameters.items()
                if k not in ("self", "name") and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}


@dataclass(frozen=True)
class TermSpec(Entry):
    """A registered reward-term type.

    ``batch_kind`` is ``"transition"``, ``"sample"`` or ``"any"``; ``uses_discount``
    marks terms whose ``gamma`` must equal the learner's discount (potential-based
    shaping); ``example`` holds minimal valid params (used by tests that build every
    registered term; ``None``: the factory needs no arguments or declares none).
    """

    batch_kind: str = "any"
    uses_discount: bool = False
    example: Mapping[str, Any] | None = None


_ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|obj|exc|math|ref|doc):`~?([^`]*)`")
_LITERAL = re.compile(r"``([^`]*)``")


def plain_summary(doc: str | None) -> str:
    """The first sentence-line of a docstring with reStructuredText roles and literals made plain.

    Example:
        >>> plain_summary("Wrap :class:`~a.b.Term` as ``x``; see :math:`\\\\gamma`.\\n\\nMore.")
        'Wrap a.b.Term as x; see \\\\gamma.'
    """
    lines = (inspect.cleandoc(doc or "")).strip().splitlines()
    first = lines[0].strip() if lines else ""
    first = _ROLE.sub(lambda m: m.group(1), first)
    return _LITERAL.sub(lambda m: m.group(1), first)


class Registry(Generic[E]):
    """Name -> factory, with lazy loading, duplicate detection and close-match errors (see module docs).

    Args:
        kind: what the entries are (``"term"``, ``"potential"`` …), used in messages.
        loaders: modules imported (if installed) to register the built-in entries; a
            module's ``register_terms()`` hook is called if it has one.
        entry_type: the :class:`Entry` subclass stored (extra fields are passed to ``register``).
        noun: how an unknown name is described (default ``kind``).

    Example:
        >>> reg = Registry("colour")
        >>> _ = reg.register("red", lambda: "#f00")
        >>> reg.register("red", lambda: "#e00")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        rewardkit.core.errors.DuplicateNameError: colour 'red': already registered ...; expected a new name, or ...
        >>> _ = reg.register("red", lambda: "#e00", override=True)
        >>> reg.names()
        ['red']
    """

    def __init__(self, kind: str, loaders: tuple[str, ...] = (), entry_type: type[E] = Entry,  # type: ignore[assignment]
                 noun: str | None = None):
        self.kind = kind
        self.noun = noun or kind
        self.loaders = tuple(loaders)
        self.entry_type = entry_type
        self._entries: dict[str, E] = {}
        self._loaded = not self.loaders
        self._missing: dict[str, str] = {}  # loader module -> the extra it needs (not installed)

    # -- registration ---------------------------------------------------------
    def register(self, name: str, factory: Callable[..., Any] | None = None, *, override: bool = False,
                 **fields: Any) -> Any:
        """Register ``factory`` under ``name`` (a call, or a decorator when ``factory`` is omitted).

        Extra keyword arguments fill the fields of ``entry_type`` (e.g. ``batch_kind`` of a term).
        """
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{self.kind} name", f"got {name!r}", "a non-empty string")

        def deco(f: Callable[..., Any]) -> Callable[..., Any]:
            old = self._entries.get(name)
            if old is not None and not override and not _same_factory(old.factory, f):
                raise DuplicateNameError(f"{self.kind} {name!r}",
                                         f"already registered (by {_describe(old.factory)})",
                                         "a new name, or override=True to replace it")
            summary = plain_summary(getattr(f, "__doc__", None))
            self._entries[name] = self.entry_type(name=name, factory=f, kind=self.kind,
                                                  summary=summary, **fields)
            return f

        return deco(factory) if factory is not None else deco

    def unregister(self, name: str) -> None:
        """Remove ``name`` (no error if absent); for tests and plug-ins that replace a set of entries."""
        self._entries.pop(name, None)

    def update_entry(self, name: str, **fields: Any) -> None:
        """Change fields of a registered entry (e.g. attach ``example`` params to a term)."""
        self._entries[name] = replace(self.get(name), **fields)

    # -- lookup ---------------------------------------------------------------
    def load(self) -> None:
        """Import the loader modules once (an optional extra that is not installed is skipped)."""
        if self._loaded:
            return
        self._loaded = True
        for mod in self.loaders:
            try:
                pkg = importlib.import_module(mod)
            except MissingExtraError as e:  # named in the unknown-name error: the entry may live there
                self._missing[mod] = e.extra
                continue
            except ImportError:
                continue
            hook = getattr(pkg, "register_terms", None)
            if callable(hook):  # packages that keep heavy modules out of their import register them here
                hook()

    def get(self, name: str, field: str | None = None) -> E:
        """The entry of ``name``; a one-line :class:`ConfigError` naming ``field`` and close matches otherwise."""
        if not isinstance(name, str):
            raise self.unknown(name, field or self.kind)
        if name not in self._entries:
            self.load()
        entry = self._entries.get(name)
        if entry is None:
            raise self.unknown(name, field or self.kind)
        return entry

    def unknown(self, name: Any, field: str) -> ConfigError:
        """The error for an unknown ``name``: close matches first, then every registered name."""
        names = sorted(self._entries)
        close = difflib.get_close_matches(str(name), names, n=3, cutoff=0.6)
        hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
        if self._missing:  # built-ins that could not load: say which extra would add them
            hint += "; not loaded (extra not installed): " + ", ".join(
                f"{m} ('rewardkit[{x}]')" for m, x in sorted(self._missing.items()))
        return ConfigError(field, f"unknown {self.noun} {name!r}{hint}", f"one of: {', '.join(names) or 'none'}")

    def __contains__(self, name: object) -> bool:
        if name not in self._entries:
            self.load()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        self.load()
        return len(self._entries)

    def names(self) -> list[str]:
        """Sorted registered names (built-ins loaded)."""
        self.load()
        return sorted(self._entries)

    def entries(self) -> dict[str, E]:
        """Every entry by name, sorted (built-ins loaded)."""
        self.load()
        return dict(sorted(self._entries.items()))

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {len(self._entries)} entries)"


def _same_factory(a: Any, b: Any) -> bool:
    """The same object, or the same definition seen again after its module was re-imported."""
    if a is b:
        return True
    qa = (getattr(a, "__module__", None), getattr(a, "__qualname__", None))
    qb = (getattr(b, "__module__", None), getattr(b, "__qualname__", None))
    return None not in qa and qa == qb and "<lambda>" not in str(qa[1]) and "<locals>" not in str(qa[1])


def _describe(f: Any) -> str:
    return f"{getattr(f, '__qualname__', type(f).__name__)} in {getattr(f, '__module__', '?')}"


#: reward-term types; packages below register theirs when imported (optional extras skipped)
TERMS: Registry[TermSpec] = Registry("term", loaders=(
    "rewardkit.core.builtin",
    "rewardkit.shaping",
    "rewardkit.explore",
    "rewardkit.verify",
    "rewardkit.spec",
    "rewardkit.learn",
    "rewardkit.audit",
    "rewardkit.credit",
    "rewardkit.integrations.minigrid",
), entry_type=TermSpec, noun="term type")
#: potentials Φ for potential-based shaping
POTENTIALS: Registry[Entry] = Registry("potential", loaders=("rewardkit.shaping.potential",))
#: environment factories for experiment specs (gymnasium ids are looked up separately)
ENVS: Registry[Entry] = Registry("env", loaders=("rewardkit.runner.envs",), noun="environment")
#: training loops of the experiment runner
LEARNERS: Registry[Entry] = Registry("learner", loaders=("rewardkit.runner.learners",))

_ALL: dict[str, Registry[Any]] = {r.kind: r for r in (TERMS, POTENTIALS, ENVS, LEARNERS)}

#: kept for callers of the former module constant
BUILTIN_PACKAGES = TERMS.loaders


def all_registries() -> dict[str, Registry[Any]]:
    """Every registry by kind (terms, potentials, environments, learners), built-ins loaded.

    Example:
        >>> sorted(all_registries())
        ['env', 'learner', 'potential', 'term']
    """
    for reg in list(_ALL.values()):
        reg.load()
    return dict(_ALL)


_MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


def load_plugins(modules: Any, field: str = "plugins") -> list[str]:
    """Import user modules that register terms, potentials, environments or learners.

    A config names its plugins (``plugins: [my_project.rewards]``) so the registrations also
    happen in worker processes started with ``spawn``, which do not inherit the parent's imports.
    Returns the validated list; a bad name or a failing import is one :class:`ConfigError` line.

    Example:
        >>> load_plugins(["rewardkit.core.builtin"])
        ['rewardkit.core.builtin']
        >>> load_plugins(["no_such_module_xyz"])
        Traceback (most recent call last):
        ...
        rewardkit.core.errors.ConfigError: plugins[0]: cannot import 'no_such_module_xyz' (ModuleNotFoundError); \
expected an importable module that registers entries
    """
    if modules is None:
        return []
    if isinstance(modules, str) or not isinstance(modules, (list, tuple)):
        raise ConfigError(field, f"got {modules!r}", "a list of module names")
    out = []
    for i, mod in enumerate(modules):
        f = f"{field}[{i}]"
        if not isinstance(mod, str) or len(mod) > 200 or not _MODULE_NAME.fullmatch(mod):
            raise ConfigError(f, f"got {mod!r}", "a dotted module name such as my_project.rewards")
        try:
            importlib.import_module(mod)
        except ConfigError:
            raise
        except Exception as e:
            raise ConfigError(f, f"cannot import {mod!r} ({type(e).__name__})",
                              "an importable module that registers entries") from None
        out.append(mod)
    return out


def register_term(name: str, factory: Callable[..., Any] | None = None, *, batch_kind: str = "any",
                  override: bool = False, uses_discount: bool = False,
                  example: Mapping[str, Any] | None = None) -> Any:
    """Register ``factory`` (a class or function returning a RewardTerm) as term type ``name``.

    Usable as a decorator::

        @register_term("answer_length", batch_kind="sample")
        class AnswerLength(RewardTerm): ...

    A name already taken by another factory raises :class:`DuplicateNameError` unless ``override=True``.

    Example:
        >>> from rewardkit.core import Constant, register_term
        >>> _ = register_term("doc_constant", lambda value=1.0, name="c": Constant(value, name), override=True)
    """
    if batch_kind not in ("transition", "sample", "any"):
        raise ConfigError("batch_kind", f"got {batch_kind!r}", "'transition', 'sample' or 'any'")
    return TERMS.register(name, factory, override=override, batch_kind=batch_kind,
                          uses_discount=uses_discount, example=example)


def get_factory(name: str, field: str = "type") -> TermSpec:
    """Look up a registered term type; a :class:`ConfigError` lists close matches and the known names."""
    return TERMS.get(name, field)


def available_terms() -> dict[str, TermSpec]:
    """All registered term types (built-ins included)."""
    return TERMS.entries()
