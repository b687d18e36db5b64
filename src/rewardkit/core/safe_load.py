"""Bounded loading of YAML, JSON and TOML documents (configs and model output alike).

A document is untrusted input: a 437-byte YAML "billion laughs" (nine anchors, each a list
of nine aliases to the previous one) expands to 9^9 strings, and a few thousand opening
brackets exhaust the parser's recursion.  Every function here enforces four budgets and
raises a one-line :class:`~rewardkit.core.errors.LimitExceeded` (a ``ConfigError``) naming
the document and the budget when one is exceeded:

``max_bytes``
    size of the encoded document, checked before any parsing (for a file: before reading it
    whole).
``max_depth``
    nesting depth of collections; the root collection is depth 1.
``max_nodes``
    number of nodes of the document *with every alias expanded*: each scalar, sequence and
    mapping counts 1, and an alias counts the full size of the node it refers to.  So the
    parsed value can be walked (``json.dumps``, ``==``, a schema check) in time and memory
    proportional to ``max_nodes``, whatever the aliases do.
``max_aliases``
    number of YAML alias references (``*name``); JSON and TOML have none.

YAML is parsed by a ``yaml.SafeLoader`` subclass that checks depth, aliases and the expanded
node count as each node is composed, so a bomb is rejected while it is still a few hundred
bytes of events, before anything is constructed.  A recursive alias (``&a [*a]``) is
rejected too.  JSON and TOML values are checked by one iterative walk after parsing (their
parsers' own recursion limit is reported as a depth error).

Text encoding: UTF-8 (an optional byte-order mark is dropped); UTF-16 and UTF-32 are
accepted with a byte-order mark.  Anything else, and text with NUL characters, is a
one-line error.

Example:
    >>> parse_document("a: &x [1, 2]\\nb: *x", "yaml")
    {'a': [1, 2], 'b': [1, 2]}
    >>> bomb = "a: &a [x, x, x]\\n" + "".join(
    ...     f"{n}: &{n} [*{p}, *{p}, *{p}]\\n" for p, n in zip("abcdefgh", "bcdefghi"))
    >>> len(bomb.encode()), 3 ** 9
    (168, 19683)
    >>> parse_document(bomb, "yaml", max_nodes=10_000)
    Traceback (most recent call last):
    ...
    rewardkit.core.errors.LimitExceeded: document: aliases expand to more than 10000 nodes; expected ...
    >>> parse_document("[" * 100 + "]" * 100, "json", max_depth=64)
    Traceback (most recent call last):
    ...
    rewardkit.core.errors.LimitExceeded: document: nesting deeper than 64 levels; expected ...
"""

from __future__ import annotations

import codecs
import json
import os
from pathlib import Path
from typing import Any

from .errors import ConfigError, LimitExceeded

__all__ = ["FORMATS", "MAX_ALIASES", "MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "SUFFIXES", "check_tree",
           "decode_text", "parse_document", "read_document", "read_text"]

#: default budgets (generous for a config file); verifiers of model output pass tighter ones
#: (``rewardkit.verify.budget.PARSE_LIMITS``)
MAX_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 200_000
MAX_ALIASES = 1_000

#: formats parse_document understands
FORMATS = ("yaml", "json", "toml")
#: file suffix -> format
SUFFIXES = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".toml": "toml"}

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_SUFFIX_HINT = "a path to a .yaml, .yml, .toml or .json file"


def decode_text(raw: bytes, field: str = "document") -> str:
    """Decode ``raw`` as UTF-8, or UTF-16/UTF-32 when it starts with a byte-order mark.

    >>> decode_text("a: 1".encode("utf-16"))
    'a: 1'
    >>> decode_text(b"a: \\xff")
    Traceback (most recent call last):
    ...
    rewardkit.core.errors.ConfigError: document: not valid UTF-8 (byte 0xff at offset 3); expected ...
    """
    enc = next((e for bom, e in _BOMS if raw.startswith(bom)), "utf-8")
    if enc in ("utf-8", "utf-8-sig") and b"\x00" in raw:
        raise ConfigError(field, f"contains a NUL byte at offset {raw.index(0)} (UTF-16 without a byte-order mark?)",
                          "UTF-8 text (UTF-16/UTF-32 only with a byte-order mark)")
    try:
        text = raw.decode(enc)
    except UnicodeDecodeError as e:
        name = {"utf-8-sig": "UTF-8"}.get(enc, enc.upper())
        bad = raw[e.start:e.start + 1].hex()
        raise ConfigError(field, f"not valid {name} (byte 0x{bad} at offset {e.start})",
                          "UTF-8 text (UTF-16/UTF-32 only with a byte-order mark)") from None
    if "\x00" in text:
        raise ConfigError(field, f"contains a NUL character at offset {text.index(chr(0))}",
                          "UTF-8 text (UTF-16/UTF-32 only with a byte-order mark)")
    return text


def read_text(path: str | os.PathLike[str], *, max_bytes: int = MAX_BYTES) -> str:
    """Read a text file of at most ``max_bytes`` bytes; every failure is one :class:`ConfigError` line.

    Missing file, directory, permission denied, other OS errors, a file over the size
    budget (checked before it is read) and a bad encoding each name the path.
    """
    p = str(path)
    try:
        with open(p, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > max_bytes:
                raise LimitExceeded(p, f"{size} bytes is larger than the limit of {max_bytes}", "a smaller file")
            raw = f.read(max_bytes + 1)  # files that report no size (pipes, /proc) are capped too
    except FileNotFoundError:
        raise ConfigError(p, "file not found", _SUFFIX_HINT) from None
    except IsADirectoryError:
        raise ConfigError(p, "is a directory", _SUFFIX_HINT) from None
    except PermissionError:
        raise ConfigError(p, "permission denied", "a file this user can read") from None
    except OSError as e:
        raise ConfigError(p, f"cannot read: {e.strerror or e}", _SUFFIX_HINT) from None
    if len(raw) > max_bytes:
        raise LimitExceeded(p, f"larger than the limit of {max_bytes} bytes", "a smaller file")
    return decode_text(raw, p)


def read_document(path: str | os.PathLike[str], *, fmt: str | None = None, max_bytes: int = MAX_BYTES,
                  max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES, max_aliases: int = MAX_ALIASES) -> Any:
    """Read and parse a YAML/JSON/TOML file within the budgets (format from the suffix unless ``fmt``)."""
    p = Path(path)
    if p.is_dir():
        raise ConfigError(str(p), "is a directory", _SUFFIX_HINT)
    if fmt is None:
        fmt = SUFFIXES.get(p.suffix.lower())
        if fmt is None:
            raise ConfigError(str(p), f"unknown extension {p.suffix.lower()!r}", ".yaml, .yml, .toml or .json")
    text = read_text(p, max_bytes=max_bytes)
    return parse_document(text, fmt, max_bytes=max_bytes, max_depth=max_depth, max_nodes=max_nodes,
                          max_aliases=max_aliases, field=str(p))


def parse_document(text: str | bytes, fmt: str, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH,
                   max_nodes: int = MAX_NODES, max_aliases: int = MAX_ALIASES, field: str = "document") -> Any:
    """Parse ``text`` as ``fmt`` (``"yaml"``, ``"json"`` or ``"toml"``) within the budgets.

    Raises :class:`LimitExceeded` for a budget and :class:`ConfigError` for text that does
    not parse (one line, naming ``field``).  ``bytes`` are decoded with :func:`decode_text`.
    """
    if fmt not in FORMATS:
        raise ConfigError("fmt", f"got {fmt!r}", f"one of {FORMATS}")
    if len(text) > max_bytes or (isinstance(text, str) and _utf8_over(text, max_bytes)):
        raise LimitExceeded(field, f"larger than the limit of {max_bytes} bytes", "a smaller document")
    if isinstance(text, bytes):
        text = decode_text(text, field)
    try:
        if fmt == "yaml":
            return _load_yaml(text, max_depth, max_nodes, max_aliases, field)
        if fmt == "json":
            data = json.loads(text)
        else:
            try:
                import tomllib
            except ModuleNotFoundError:  # pragma: no cover - py3.10
                import tomli as tomllib  # type: ignore[no-redef]
            data = tomllib.loads(text)
    except ConfigError:
        raise
    except RecursionError:
        raise LimitExceeded(field, f"nesting deeper than {max_depth} levels", _DEPTH_HINT) from None
    except Exception as e:  # parser errors: keep them to one line
        msg = " ".join(str(e).split())
        raise ConfigError(field, f"cannot parse: {msg}", f"valid {fmt.upper()}") from None
    return check_tree(data, max_depth, max_nodes, field)


_DEPTH_HINT = "a less deeply nested document"
_NODES_HINT = "a smaller document (or no alias bombs)"


def _utf8_over(text: str, cap: int) -> bool:
    """Whether the UTF-8 encoding of ``text`` is longer than ``cap`` (encodes only when it must)."""
    return 4 * len(text) > cap and len(text.encode("utf-8", "surrogatepass")) > cap


def check_tree(data: Any, max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES, field: str = "document") -> Any:
    """Check the depth and node count of an already parsed value by one iterative walk (no
    recursion; stops at the first limit passed, so a shared-subtree bomb costs at most
    ``max_nodes`` steps).  Returns ``data``; raises :class:`LimitExceeded`.

    Example:
        >>> check_tree([[1], [2]], max_depth=2)
        [[1], [2]]
        >>> check_tree([[[1]]], max_depth=2)
        Traceback (most recent call last):
        ...
        rewardkit.core.errors.LimitExceeded: document: nesting deeper than 2 levels; expected ...
    """
    stack: list[tuple[Any, int]] = [(data, 1)]
    nodes = 0
    while stack:
        v, d = stack.pop()
        nodes += 1
        if nodes > max_nodes:
            raise LimitExceeded(field, f"more than {max_nodes} nodes", _NODES_HINT)
        if isinstance(v, dict):
            if d > max_depth:
                raise LimitExceeded(field, f"nesting deeper than {max_depth} levels", _DEPTH_HINT)
            nodes += len(v)  # keys
            stack.extend((x, d + 1) for x in v.values())
        elif isinstance(v, (list, tuple)):
            if d > max_depth:
                raise LimitExceeded(field, f"nesting deeper than {max_depth} levels", _DEPTH_HINT)
            stack.extend((x, d + 1) for x in v)
    return data


def _load_yaml(text: str, max_depth: int, max_nodes: int, max_aliases: int, field: str) -> Any:
    loader = _bounded_loader_class()(text)
    loader.rk_limits = (max_depth, max_nodes, max_aliases, field)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


_LOADER: Any = None


def _bounded_loader_class() -> Any:
    """The ``SafeLoader`` subclass (built once, on first use, so importing this module needs no PyYAML)."""
    global _LOADER
    if _LOADER is not None:
        return _LOADER
    import yaml

    class BoundedSafeLoader(yaml.SafeLoader):
        """``SafeLoader`` that counts depth, aliases and expanded nodes while composing."""

        rk_limits: tuple[int, int, int, str] = (MAX_DEPTH, MAX_NODES, MAX_ALIASES, "document")

        def __init__(self, stream: Any):
            super().__init__(stream)
            self.rk_depth = 0
            self.rk_aliases = 0
            self.rk_size: dict[int, int] = {}  # id(node) -> expanded node count, once composed

        def compose_node(self, parent: Any, index: Any) -> Any:
            max_depth, max_nodes, max_aliases, field = self.rk_limits
            if self.check_event(yaml.AliasEvent):
                self.rk_aliases += 1
                if self.rk_aliases > max_aliases:
                    raise LimitExceeded(field, f"more than {max_aliases} YAML aliases", _NODES_HINT)
                anchor = self.peek_event().anchor
                node = super().compose_node(parent, index)
                if id(node) not in self.rk_size:
                    raise ConfigError(field, f"recursive alias *{anchor}", "a document without self-references")
                return node
            self.rk_depth += 1
            if self.rk_depth > max_depth:
                raise LimitExceeded(field, f"nesting deeper than {max_depth} levels", _DEPTH_HINT)
            node = super().compose_node(parent, index)
            self.rk_depth -= 1
            if isinstance(node, yaml.SequenceNode):
                size = 1 + sum(self.rk_size[id(c)] for c in node.value)
            elif isinstance(node, yaml.MappingNode):
                size = 1 + sum(self.rk_size[id(k)] + self.rk_size[id(v)] for k, v in node.value)
            else:
                size = 1
            if size > max_nodes:
                raise LimitExceeded(field, f"aliases expand to more than {max_nodes} nodes"
                                    if self.rk_aliases else f"more than {max_nodes} nodes", _NODES_HINT)
            self.rk_size[id(node)] = size
            return node

    _LOADER = BoundedSafeLoader
    return _LOADER
