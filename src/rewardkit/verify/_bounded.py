"""Bounded JSON / YAML / TOML loaders for **model output** (untrusted, per sample).

A verifier must not let one completion take the process down.  Plain loaders do not
bound what they build: a 437-byte YAML "billion laughs" (nine aliases of nine aliases …)
constructs shared lists that any later copy (``json.dumps``, a schema walk) expands to
9⁹ items and gigabytes; ``'[' * 10**6`` recurses until the interpreter gives up.  These
loaders enforce, for every format:

* ``max_chars`` – the payload size, checked before parsing;
* ``max_depth`` – nesting depth of the parsed value;
* ``max_nodes`` – containers and scalars in the parsed value, **counting every alias
  use as a copy** (so a shared subtree costs what a consumer walking it would pay);
* YAML only: ``max_aliases`` alias uses and the size of merged (``<<``) mappings, both
  checked while the document is composed, before anything is expanded.

A payload over a limit raises :class:`ParseLimitError` (a ``ValueError``) naming the limit;
verifiers report it as ``error="parse_limit"``.

This module is separate from any config-file loader on purpose (configs are trusted and
have other limits); the two can share code later.

Example:
    >>> load_json('{"a": [1, 2]}')
    {'a': [1, 2]}
    >>> bomb = 'a: &a [x, x]\\nb: &b [*a, *a]\\nc: [*b, *b, *b]'
    >>> load_yaml(bomb, max_aliases=4)
    Traceback (most recent call last):
    ...
    rewardkit.verify._bounded.ParseLimitError: yaml: more than max_aliases=4 alias uses
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = ["ParseLimitError", "ParseLimits", "DEFAULT_LIMITS", "check_shape", "load_json", "load_yaml",
           "load_toml", "load"]


class ParseLimitError(ValueError):
    """A payload exceeded a parse limit (size, depth, nodes or aliases)."""


@dataclass(frozen=True)
class ParseLimits:
    """Limits for one parse of model output (see the module docstring)."""

    max_chars: int = 200_000
    max_depth: int = 64
    max_nodes: int = 20_000
    max_aliases: int = 64


#: the limits verifiers use unless told otherwise
DEFAULT_LIMITS = ParseLimits()


def check_shape(value: Any, max_depth: int = 64, max_nodes: int = 20_000, fmt: str = "value") -> Any:
    """Walk ``value`` iteratively (no recursion) and raise :class:`ParseLimitError` when it is
    deeper than ``max_depth`` or has more than ``max_nodes`` nodes (shared subtrees counted
    once per use).  Stops as soon as a limit is passed, so a bomb costs at most ``max_nodes``
    steps.  Returns ``value``.

    Example:
        >>> check_shape([[1], [2]], max_depth=2)
        [[1], [2]]
        >>> check_shape([[[1]]], max_depth=2)
        Traceback (most recent call last):
        ...
        rewardkit.verify._bounded.ParseLimitError: value: nesting deeper than max_depth=2
    """
    stack: list[tuple[Any, int]] = [(value, 0)]
    seen = 1  # values pushed so far; each is one node of the expanded value
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict):
            children: Any = [*v.keys(), *v.values()]
        elif isinstance(v, (list, tuple)):
            children = v
        else:
            continue
        if not children:
            continue
        if d >= max_depth:
            raise ParseLimitError(f"{fmt}: nesting deeper than max_depth={max_depth}")
        seen += len(children)
        if seen > max_nodes:
            raise ParseLimitError(f"{fmt}: more than max_nodes={max_nodes} values")
        stack.extend((c, d + 1) for c in children)
    return value


def _size(text: str, limits: ParseLimits, fmt: str) -> None:
    if len(text) > limits.max_chars:
        raise ParseLimitError(f"{fmt}: {len(text)} characters > max_chars={limits.max_chars}")


def _json_decode(text: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        raise ParseLimitError("json: nesting too deep for the parser") from None


def load_json(text: str, limits: ParseLimits = DEFAULT_LIMITS) -> Any:
    """``json.loads`` with the limits of :class:`ParseLimits` (raises ``json.JSONDecodeError`` on
    bad JSON, :class:`ParseLimitError` over a limit).

    Example:
        >>> load_json("[" * 100 + "]" * 100)
        Traceback (most recent call last):
        ...
        rewardkit.verify._bounded.ParseLimitError: json: nesting deeper than max_depth=64
    """
    _size(text, limits, "json")
    return check_shape(_json_decode(text), limits.max_depth, limits.max_nodes, "json")


def load_toml(text: str, limits: ParseLimits = DEFAULT_LIMITS) -> Any:
    """``tomllib.loads`` with the limits of :class:`ParseLimits`.

    Example:
        >>> load_toml("a = 1")
        {'a': 1}
    """
    try:
        import tomllib
    except ModuleNotFoundError:  # pragma: no cover - py3.10
        import tomli as tomllib  # type: ignore[no-redef]

    _size(text, limits, "toml")
    try:
        value = tomllib.loads(text)
    except RecursionError:
        raise ParseLimitError("toml: nesting too deep for the parser") from None
    return check_shape(value, limits.max_depth, limits.max_nodes, "toml")


def _yaml_loader(limits: ParseLimits) -> Any:
    import yaml

    class _BoundedLoader(yaml.SafeLoader):
        """SafeLoader that counts alias uses and depth while composing, and caps merged mappings."""

        _aliases = 0
        _depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                self._aliases += 1
                if self._aliases > limits.max_aliases:
                    raise ParseLimitError(f"yaml: more than max_aliases={limits.max_aliases} alias uses")
            self._depth += 1
            if self._depth > limits.max_depth:
                raise ParseLimitError(f"yaml: nesting deeper than max_depth={limits.max_depth}")
            try:
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1

        def flatten_mapping(self, node: Any) -> None:
            super().flatten_mapping(node)
            if len(node.value) > limits.max_nodes:
                raise ParseLimitError(f"yaml: merged mapping with more than max_nodes={limits.max_nodes} keys")

    return _BoundedLoader


def load_yaml(text: str, limits: ParseLimits | None = None, **overrides: int) -> Any:
    """``yaml.safe_load`` with alias, depth, merge and node limits (``overrides`` replace
    single fields of ``limits``, e.g. ``max_aliases=4``).

    Example:
        >>> load_yaml("a: [1, 2]")
        {'a': [1, 2]}
    """
    import yaml

    lim = limits or DEFAULT_LIMITS
    if overrides:
        lim = ParseLimits(**{**lim.__dict__, **overrides})
    _size(text, lim, "yaml")
    try:
        value = yaml.load(text, Loader=_yaml_loader(lim))  # a SafeLoader subclass
    except RecursionError:
        raise ParseLimitError("yaml: nesting too deep for the parser") from None
    return check_shape(value, lim.max_depth, lim.max_nodes, "yaml")


def load(text: str, fmt: str, limits: ParseLimits = DEFAULT_LIMITS) -> Any:
    """Dispatch to :func:`load_json`, :func:`load_yaml` or :func:`load_toml` by ``fmt``.

    Example:
        >>> load("x = [1]", "toml")
        {'x': [1]}
    """
    if fmt == "json":
        return load_json(text, limits)
    if fmt == "yaml":
        return load_yaml(text, limits)
    if fmt == "toml":
        return load_toml(text, limits)
    raise ValueError(f"format: got {fmt!r}, expected 'json', 'yaml' or 'toml'")
