"""Text-to-SQL rewards: execution match with selectable semantics plus Reasoning-SQL partial rewards.

Reference: Mohammadreza Pourreza, Shayan Talaei, Ruoxi Sun, Xingchen Wan, Hailong Li,
Azalia Mirhoseini, Amin Saberi, Sercan Ö. Arık (2025), *Reasoning-SQL: Reinforcement
Learning with SQL Tailored Partial Rewards for Reasoning-Enhanced Text-to-SQL*
(arXiv:2503.23157).  The total reward is a weighted sum of partial rewards

.. math::

    R = w_{ex}\\,\\mathbb{1}[\\mathrm{exec}(\\hat q) \\equiv \\mathrm{exec}(q^*)]
      + w_{syn}\\,\\mathbb{1}[\\hat q \\text{ parses}]
      + w_{sl}\\,J(S(\\hat q), S(q^*))
      + w_{ng}\\,J(G_n(\\hat q), G_n(q^*))

with :math:`J(A,B)=|A\\cap B|/|A\\cup B|`, :math:`S(q)` the schema items (tables and
``table.column`` pairs, resolved with sqlglot's ``qualify`` against the database schema)
and :math:`G_n(q)` the set of token n-grams (bigrams by default).  Reasoning-SQL's weights
are 3/1/1/1 (the LLM-judge term, weight 2, needs a remote model and is left to a judge
verifier).

Execution equivalence ``≡`` is selectable (see :data:`SEMANTICS` and ``docs/verify-sql.md``):

* ``"bird"`` – BIRD's ``set(pred_rows) == set(gold_rows)`` (Li et al. 2023, *Can LLM
  Already Serve as A Database Interface?*): duplicates and row order ignored, column order
  matters;
* ``"multiset"`` – ``Counter`` equality: duplicates count, order ignored;
* ``"ordered"`` – multiset, but an exact list comparison when the *gold* query has a
  top-level ``ORDER BY`` (detected on the sqlglot AST);
* ``"permutation"`` – multiset up to a permutation of the columns;
* ``"spider"`` – the Spider test-suite rule (Zhong, Yu, Klein 2020, *Semantic Evaluation for
  Text-to-SQL with Distilled Test Suites*): column permutation + ordered-if-gold-ORDER-BY.

Databases are opened read-only (URI ``mode=ro``, ``PRAGMA query_only``, an authorizer that
only allows reads), runaway queries are stopped by a progress-handler deadline, and result
size is capped.  Nothing here raises on bad model SQL.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote

from rewardkit.core import ConfigError, register_term
from rewardkit.core.cache import LRUCache
from rewardkit.core.pickling import RebuildOnUnpickle

from .budget import DEFAULT_BUDGETS, TIMEOUT, Budget
from .result import Verifier, VerifierTerm, VerifyResult
from .tags import answer_block, find_fences

__all__ = [
    "REASONING_SQL_WEIGHTS",
    "SEMANTICS",
    "ExecResult",
    "MatchSemantics",
    "ReadOnlyDatabase",
    "SQLVerifier",
    "extract_sql",
    "gold_has_order_by",
    "ngram_jaccard",
    "results_match",
    "schema_items",
    "schema_link_jaccard",
    "sql_answer",
    "sql_syntax_ok",
    "sql_tokens",
]

#: Reasoning-SQL weights (execution 3, syntax 1, schema linking 1, n-gram 1).
REASONING_SQL_WEIGHTS: dict[str, float] = {"execution": 3.0, "syntax": 1.0, "schema_link": 1.0, "ngram": 1.0}
_COMPONENTS = ("execution", "syntax", "executes", "schema_link", "ngram")
_MAX_SQL_CHARS = 20_000


# --------------------------------------------------------------------------------------- semantics
@dataclass(frozen=True)
class MatchSemantics:
    """How two result tables are compared.

    Attributes:
        rows: ``"set"`` (duplicates ignored) or ``"multiset"`` (duplicates counted).
        order: ``"never"``, ``"if_gold_ordered"`` (exact row order when the gold query has a
            top-level ORDER BY) or ``"always"``.
        column_permutation: accept the prediction if *some* permutation of its columns matches.
    """

    rows: str = "set"
    order: str = "never"
    column_permutation: bool = False

    def __post_init__(self) -> None:
        if self.rows not in ("set", "multiset"):
            raise ConfigError("semantics.rows", f"got {self.rows!r}", "'set' or 'multiset'")
        if self.order not in ("never", "if_gold_ordered", "always"):
            raise ConfigError("semantics.order", f"got {self.order!r}", "'never', 'if_gold_ordered' or 'always'")


#: Named semantics presets (see module docstring).
SEMANTICS: dict[str, MatchSemantics] = {
    "bird": MatchSemantics("set", "never", False),
    "multiset": MatchSemantics("multiset", "never", False),
    "ordered": MatchSemantics("multiset", "if_gold_ordered", False),
    "permutation": MatchSemantics("multiset", "never", True),
    "spider": MatchSemantics("multiset", "if_gold_ordered", True),
}


def _semantics(s: str | MatchSemantics) -> MatchSemantics:
    if isinstance(s, MatchSemantics):
        return s
    if s not in SEMANTICS:
        raise ConfigError("semantics", f"got {s!r}", f"one of {sorted(SEMANTICS)} or a MatchSemantics")
    return SEMANTICS[s]


def results_match(pred_rows: Sequence[tuple], gold_rows: Sequence[tuple],
                  semantics: str | MatchSemantics = "bird", gold_ordered: bool = False,
                  max_permutations: int = 5000) -> bool:
    """Compare two result tables under ``semantics``.

    Two empty results always match (as in BIRD and the Spider test suite).  With
    ``column_permutation`` the columns of ``pred_rows`` may be reordered; candidate
    permutations are pruned by per-column value (multi)sets and at most
    ``max_permutations`` are tried.

    Example:
        >>> a, b = [("x", 1), ("x", 1), ("y", 2)], [("y", 2), ("x", 1)]
        >>> results_match(a, b, "bird"), results_match(a, b, "multiset")
        (True, False)
        >>> results_match([(1, "x")], [("x", 1)], "bird"), results_match([(1, "x")], [("x", 1)], "spider")
        (False, True)
        >>> results_match([(1,), (2,)], [(2,), (1,)], "ordered", gold_ordered=True)
        False
    """
    sem = _semantics(semantics)
    pred = [tuple(r) for r in pred_rows]
    gold = [tuple(r) for r in gold_rows]
    if not pred and not gold:
        return True
    if not pred or not gold:
        return False
    ordered = sem.order == "always" or (sem.order == "if_gold_ordered" and gold_ordered)
    if sem.rows == "multiset" or ordered:
        if len(pred) != len(gold):
            return False
    width = len(gold[0])
    if any(len(r) != width for r in gold) or any(len(r) != width for r in pred):
        return False

    def same(rows: list[tuple]) -> bool:
        if ordered:
            return rows == gold
        if sem.rows == "set":
            return set(rows) == set(gold)
        return Counter(rows) == Counter(gold)

    if same(pred):
        return True
    if not sem.column_permutation or width < 2:
        return False
    bag = set if sem.rows == "set" and not ordered else Counter
    return _match_permuted(pred, gold, same, bag, max_permutations)


def _match_permuted(pred: list[tuple], gold: list[tuple], same: Callable[[list[tuple]], bool], bag: Callable,
                    max_permutations: int) -> bool:
    """Whether ``same`` holds for some reordering of the columns of ``pred`` (rectangular, as wide as ``gold``).

    Candidate pred columns for each gold column are those with an equal value (multi)set ``bag``;
    a depth-first search tries at most ``max_permutations`` complete permutations.
    """
    width = len(gold[0])
    gold_cols = [bag(r[j] for r in gold) for j in range(width)]
    pred_cols = [bag(r[i] for r in pred) for i in range(width)]
    cands = [[i for i in range(width) if pred_cols[i] == gold_cols[j]] for j in range(width)]
    if any(not c for c in cands):
        return False
    tried = 0
    perm: list[int] = []
    used = [False] * width

    def search(j: int) -> bool:
        nonlocal tried
        if tried >= max_permutations:
            return False
        if j == width:
            tried += 1
            return same([tuple(r[i] for i in perm) for r in pred])
        for i in cands[j]:
            if not used[i]:
                used[i] = True
                perm.append(i)
                if search(j + 1):
                    return True
                perm.pop()
                used[i] = False
        return False

    return search(0)


# --------------------------------------------------------------------------------------- execution
@dataclass
class ExecResult:
    """Rows and column names of one query, or an error type (``"timeout"``, ``"row_cap"``,
    ``"sql_error"``, ``"not_authorized"``, ``"db_error"``)."""

    rows: list[tuple] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    error: str | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None


_ALLOWED_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION,
                    getattr(sqlite3, "SQLITE_RECURSIVE", 33)}


def _authorizer(action: int, *_: Any) -> int:
    return sqlite3.SQLITE_OK if action in _ALLOWED_ACTIONS else sqlite3.SQLITE_DENY


class ReadOnlyDatabase:
    """A read-only SQLite connection with a per-query deadline and a row cap.

    Opened with URI ``mode=ro`` and ``PRAGMA query_only=1``; an authorizer then allows only
    ``SELECT``/read/function/recursive-CTE actions (no ``ATTACH``, ``PRAGMA`` or writes), and
    the maximum string/blob length is capped.  ``execute`` stops a query when
    ``timeout_s`` of wall time has passed (checked by a progress handler every
    ``progress_every`` VM instructions) and when more than ``max_rows`` rows come back.

    Example:
        >>> import sqlite3, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "t.db")
        >>> con = sqlite3.connect(path); _ = con.execute("CREATE TABLE t(a)"); con.commit(); con.close()
        >>> db = ReadOnlyDatabase(path)
        >>> db.execute("SELECT 1 + 1").rows, db.execute("DELETE FROM t").error
        ([(2,)], 'not_authorized')
        >>> db.schema
        {'t': {'a': ''}}
    """

    def __init__(self, path: str | Path, progress_every: int = 1000, max_value_bytes: int = 10_000_000):
        self.path = str(path)
        if not Path(self.path).is_file():
            raise FileNotFoundError(f"db_path: {self.path!r} is not a file")
        uri = f"file:{quote(str(Path(self.path).resolve()))}?mode=ro"
        self.conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self.conn.text_factory = lambda b: b.decode("utf-8", "replace")
        self.conn.execute("PRAGMA query_only = 1")
        self.schema = self._read_schema()
        self.conn.set_authorizer(_authorizer)
        if hasattr(self.conn, "setlimit"):
            self.conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, max_value_bytes)
            self.conn.setlimit(sqlite3.SQLITE_LIMIT_SQL_LENGTH, 1_000_000)
        self._deadline = float("inf")
        self.conn.set_progress_handler(self._progress, progress_every)

    def _progress(self) -> int:
        return 1 if time.perf_counter() > self._deadline else 0

    def _read_schema(self) -> dict[str, dict[str, str]]:
        schema: dict[str, dict[str, str]] = {}
        names = [r[0] for r in self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'")]
        for t in names:
            cols = self.conn.execute(f"PRAGMA table_info({_quote_ident(t)})").fetchall()
            schema[t.lower()] = {str(c[1]).lower(): str(c[2] or "") for c in cols}
        return schema

    def execute(self, sql: str, timeout_s: float = 5.0, max_rows: int = 10_000) -> ExecResult:
        """Run one statement; never raises on bad SQL (errors come back in the result)."""
        self._deadline = time.perf_counter() + timeout_s
        cur = None
        try:
            cur = self.conn.execute(sql)
            rows = cur.fetchmany(max_rows + 1)
            cols = [d[0] for d in (cur.description or [])]
            if len(rows) > max_rows:
                return ExecResult(error="row_cap", message=f"more than {max_rows} rows", columns=cols)
            return ExecResult([tuple(r) for r in rows], cols)
        except sqlite3.OperationalError as e:
            msg = str(e)
            if "interrupted" in msg:
                return ExecResult(error="timeout", message=f"exceeded {timeout_s}s")
            if "not authorized" in msg:
                return ExecResult(error="not_authorized", message=msg)
            return ExecResult(error="sql_error", message=msg)
        except sqlite3.DatabaseError as e:
            msg = str(e)
            kind = "not_authorized" if "not authorized" in msg else "sql_error"
            return ExecResult(error=kind, message=msg)
        except (sqlite3.Error, ValueError, OverflowError, MemoryError) as e:
            return ExecResult(error="sql_error", message=f"{type(e).__name__}: {e}")
        finally:
            self._deadline = float("inf")
            if cur is not None:
                try:
                    cur.close()
                except sqlite3.Error:
                    pass

    def close(self) -> None:
        self.conn.close()


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --------------------------------------------------------------------------------------- extraction
_STATEMENT_START = re.compile(r"(?is)\b(select|with)\b")
_RAW_SQL = re.compile(r"(?is)^\s*(select|with|insert|update|delete|replace|drop|create|alter|pragma|attach|"
                      r"detach|values|explain|vacuum|reindex|analyze|begin|commit)\b")


def extract_sql(text: str) -> str | None:
    """Pull the SQL query out of a model completion (``None`` if there is none; see :func:`sql_answer`)."""
    return sql_answer(text)[0]


def sql_answer(text: str) -> tuple[str | None, str | None]:
    """Pull the SQL query out of a model completion: ``(sql, None)``, or ``(None, error)``.

    Tags and fences are found by :mod:`rewardkit.verify.tags` (linear time).  Order: the last
    ```` ```sql ```` fence (else the last unlabelled fence) – searched inside the ``<answer>``
    block first if there is one; then the ``<answer>`` body itself; then the whole text if it
    starts with an SQL keyword; then the last ``SELECT``/``WITH`` statement of the text (up to
    ``;`` or the end).  Trailing semicolons and whitespace are stripped.  Several ``<answer>``
    blocks with different content are a shotgun (the one answer policy,
    :func:`rewardkit.verify.tags.answer_block`): ``(None, "multiple_answers")``; nothing that
    looks like SQL is ``(None, "no_sql")``.

    Example:
        >>> sql_answer("<think>use t</think><answer>```sql\\nSELECT a FROM t;\\n```</answer>")
        ('SELECT a FROM t', None)
        >>> sql_answer("I think the query is SELECT 1; then done")[0]
        'SELECT 1'
        >>> sql_answer("<answer>SELECT 1</answer><answer>SELECT 2</answer>")
        (None, 'multiple_answers')
        >>> sql_answer("no query here")
        (None, 'no_sql')
    """
    sql = None
    if isinstance(text, str) and text.strip():
        block, err = answer_block(text, "answer")
        if err is not None:
            return None, err
        sql = _find_sql(text, block)
    return (sql, None) if sql is not None else (None, "no_sql")


def _find_sql(text: str, block: Any) -> str | None:
    scope = block.content(text) if block is not None else text
    fences = find_fences(scope)
    if fences:
        sql_fences = [f.content(scope) for f in fences if f.lang.lower() in ("sql", "sqlite")]
        plain = [f.content(scope) for f in fences if not f.lang]
        pick = sql_fences or plain or [f.content(scope) for f in fences]
        return _clean(pick[-1])
    if block is not None:
        return _clean(scope)
    if _RAW_SQL.match(text):  # the whole completion is a statement
        return _clean(text)
    starts = [m.start() for m in _STATEMENT_START.finditer(text)]
    if not starts:
        return None
    # the last statement: the last SELECT/WITH that is not inside an earlier statement's span
    best = None
    for s in starts:
        if best is None or s >= best[1]:
            end = text.find(";", s)
            best = (s, len(text) if end < 0 else end)
    assert best is not None
    return _clean(text[best[0]:best[1]])


def _clean(sql: str) -> str | None:
    s = sql.replace("```", " ").strip().rstrip(";").strip()  # stray inline fences; single ` quotes stay
    return s or None


# --------------------------------------------------------------------------------------- syntax / AST
def _parse(sql: str) -> Any:
    """Parse one SQLite statement with sqlglot; ``None`` if it fails or is not exactly one statement."""
    import sqlglot
    from sqlglot import exp

    if not sql or len(sql) > _MAX_SQL_CHARS:
        return None
    try:
        trees = [t for t in sqlglot.parse(sql, read="sqlite") if t is not None]
    except Exception:  # ParseError, TokenError, RecursionError on adversarial input
        return None
    if len(trees) != 1 or isinstance(trees[0], exp.Command):
        return None
    return trees[0]


def sql_syntax_ok(sql: str | None) -> bool:
    """True if sqlglot parses ``sql`` as exactly one SQLite statement.

    Example:
        >>> sql_syntax_ok("SELECT a FROM t WHERE b = 1"), sql_syntax_ok("SELEC a FROM"), sql_syntax_ok("SELECT 1; SELECT 2")
        (True, False, False)
    """
    return sql is not None and _parse(sql) is not None


def gold_has_order_by(sql: str | None) -> bool:
    """True if the statement has a top-level ``ORDER BY`` (on the AST; subquery ORDER BYs and
    the words inside string literals do not count).

    Example:
        >>> gold_has_order_by("SELECT a FROM t ORDER BY a"), gold_has_order_by(
        ...     "SELECT 'order by' FROM (SELECT a FROM t ORDER BY a)")
        (True, False)
    """
    tree = _parse(sql) if sql else None
    return tree is not None and tree.args.get("order") is not None


def _normalize_schema(schema: Any) -> dict[str, dict[str, str]] | None:
    if schema is None:
        return None
    if not isinstance(schema, Mapping):
        raise ConfigError("columns.schema", f"got {type(schema).__name__}",
                          "a mapping {table: {column: type}} or {table: [columns]}")
    out: dict[str, dict[str, str]] = {}
    for t, cols in schema.items():
        if isinstance(cols, Mapping):
            out[str(t).lower()] = {str(c).lower(): str(v or "") for c, v in cols.items()}
        elif isinstance(cols, (list, tuple)):
            out[str(t).lower()] = {str(c).lower(): "" for c in cols}
        else:
            raise ConfigError(f"columns.schema.{t}", f"got {type(cols).__name__}",
                              "a list of column names or a {column: type} map")
    return out


def schema_items(sql: str | None, schema: Mapping[str, Any] | None = None) -> set[str]:
    """Schema items referenced by ``sql``: table names and ``table.column`` pairs.

    With a schema, sqlglot's ``qualify`` resolves unqualified columns, expands ``*`` and maps
    aliases to their base tables scope by scope; columns it cannot resolve (unknown names)
    are kept as ``?.column``.  Names are lower-cased.  An unparseable query gives the empty set.

    Example:
        >>> s = {"singer": {"id": "int", "name": "text"}, "concert": {"singer_id": "int", "year": "int"}}
        >>> sorted(schema_items("SELECT T1.name FROM singer AS T1 JOIN concert AS T2 ON T1.id = T2.singer_id", s))
        ['concert', 'concert.singer_id', 'singer', 'singer.id', 'singer.name']
    """
    return _items_of_tree(_parse(sql) if sql else None, schema)


def _items_of_tree(tree: Any, schema: Mapping[str, Any] | None) -> set[str]:
    if tree is None:
        return set()
    from sqlglot import exp
    from sqlglot.optimizer.qualify import qualify
    from sqlglot.optimizer.scope import traverse_scope

    norm = _normalize_schema(schema) if schema else None
    try:
        tree = qualify(tree.copy(), schema=norm, dialect="sqlite", validate_qualify_columns=False,
                       quote_identifiers=False, identify=False)
    except Exception:
        pass  # keep the unqualified tree; items are still extracted below
    items: set[str] = set()
    try:
        scopes = traverse_scope(tree)
    except Exception:
        scopes = []
    if scopes:
        for scope in scopes:
            for t in scope.tables:
                items.add(t.name.lower())
            for col in scope.columns:
                src = scope.sources.get(col.table) if col.table else None
                if isinstance(src, exp.Table):
                    items.add(f"{src.name.lower()}.{col.name.lower()}")
                elif src is None:
                    items.add(f"?.{col.name.lower()}")
    else:
        for t in tree.find_all(exp.Table):
            items.add(t.name.lower())
        for col in tree.find_all(exp.Column):
            items.add(f"?.{col.name.lower()}")
    items.discard("")
    return items


def _jaccard(a: set, b: set) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def schema_link_jaccard(pred_sql: str | None, gold_sql: str | None, schema: Mapping[str, Any] | None = None) -> float:
    """Reasoning-SQL schema-linking reward :math:`J(S(\\hat q), S(q^*))` (0 if either fails to parse).

    Example:
        >>> s = {"t": ["a", "b"]}
        >>> (schema_link_jaccard("SELECT a FROM t", "SELECT t.a FROM t", s),
        ...  schema_link_jaccard("SELECT b FROM t", "SELECT a FROM t", s))
        (1.0, 0.3333333333333333)
    """
    p, g = schema_items(pred_sql, schema), schema_items(gold_sql, schema)
    if not p or not g:
        return 0.0
    return _jaccard(p, g)


_TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`[^`]*`|\d+(?:\.\d+)?|\w+|<=|>=|<>|!=|\|\||\S")


def sql_tokens(sql: str | None) -> list[str]:
    """Lower-cased SQL tokens: quoted literals/identifiers, numbers, words, operators.

    Example:
        >>> sql_tokens("SELECT name FROM t WHERE x>='A b'")
        ['select', 'name', 'from', 't', 'where', 'x', '>=', "'a b'"]
    """
    return [t.lower() for t in _TOKEN.findall(sql or "")]


def ngram_jaccard(pred_sql: str | None, gold_sql: str | None, n: int = 2) -> float:
    """Reasoning-SQL n-gram reward: Jaccard of the sets of token n-grams.

    A query shorter than ``n`` tokens contributes its whole token tuple as one gram.

    Example:
        >>> ngram_jaccard("SELECT a FROM t", "SELECT a FROM t"), ngram_jaccard("SELECT a FROM t", "SELECT b FROM t")
        (1.0, 0.2)
    """
    p, g = sql_tokens(pred_sql), sql_tokens(gold_sql)
    if not p or not g:
        return 0.0

    def grams(toks: list[str]) -> set[tuple[str, ...]]:
        if len(toks) < n:
            return {tuple(toks)}
        return {tuple(toks[i:i + n]) for i in range(len(toks) - n + 1)}

    return _jaccard(grams(p), grams(g))


# --------------------------------------------------------------------------------------- verifier
class SQLVerifier(RebuildOnUnpickle, Verifier):
    """Reasoning-SQL reward for one predicted query against a gold query on a SQLite database.

    Reference columns: ``db_path`` (SQLite file), ``gold_sql``, optional ``schema``
    (``{table: {column: type}}``; read from the database when absent).

    ``value = Σ_k weights[k] · components[k]`` (divided by ``Σ weights`` when
    ``normalize=True``).  Components, each in [0, 1]:

    * ``execution`` – results match under ``semantics`` (:data:`SEMANTICS`);
    * ``syntax`` – sqlglot parses the query as one SQLite statement (computed only when
      ``syntax`` or ``schema_link`` is weighted);
    * ``executes`` – SQLite ran it without error (weight 0 by default);
    * ``schema_link`` – :func:`schema_link_jaccard`;
    * ``ngram`` – :func:`ngram_jaccard`.

    Gold results, gold schema items and connections are cached (a GRPO group shares one gold).
    Budget: completions over 200,000 characters get 0 and ``too_large`` before any scan; the
    ``timeout_s`` deadline starts when :meth:`verify` starts, so extraction and parsing count
    against it and the query gets only what is left.
    Errors: ``no_sql`` (nothing extracted), ``timeout``, ``row_cap``, ``sql_error``, ``too_large``,
    ``not_authorized`` (prediction), ``bad_reference`` (gold fails or db missing).

    Example:
        >>> import sqlite3, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "s.db")
        >>> con = sqlite3.connect(path)
        >>> _ = con.executescript("CREATE TABLE singer(name TEXT, age INT); INSERT INTO singer VALUES ('a', 30), ('b', 40);")
        >>> con.commit(); con.close()
        >>> v = SQLVerifier(semantics="bird")
        >>> r = v.verify("```sql\\nSELECT name FROM singer WHERE age > 35\\n```", db_path=path,
        ...              gold_sql="SELECT name FROM singer WHERE age >= 40")
        >>> r.components["execution"], r.components["syntax"], round(r.value, 3)
        (1.0, 1.0, 5.556)
    """

    name = "sql"
    reference_columns = ("db_path", "gold_sql", "schema")

    def __init__(self, semantics: str | MatchSemantics = "bird", weights: Mapping[str, float] | None = None,
                 timeout_s: float = 5.0, max_rows: int = 10_000, ngram_n: int = 2, normalize: bool = False,
                 extract: bool = True, cache_size: int = 512):
        self.semantics = _semantics(semantics)
        w = dict(REASONING_SQL_WEIGHTS if weights is None else weights)
        for k, v in w.items():
            if k not in _COMPONENTS:
                raise ConfigError(f"weights.{k}", "unknown component", f"one of {list(_COMPONENTS)}")
            if not isinstance(v, (int, float)):
                raise ConfigError(f"weights.{k}", f"got {v!r}", "a number")
        self.weights = {k: float(v) for k, v in w.items()}
        if timeout_s <= 0:
            raise ConfigError("timeout_s", f"got {timeout_s}", "a positive number of seconds")
        if max_rows < 1:
            raise ConfigError("max_rows", f"got {max_rows}", "a positive integer")
        if ngram_n < 1:
            raise ConfigError("ngram_n", f"got {ngram_n}", "a positive integer")
        self.timeout_s, self.max_rows, self.ngram_n = float(timeout_s), int(max_rows), int(ngram_n)
        self.normalize, self.extract = bool(normalize), bool(extract)
        self.budget = Budget(DEFAULT_BUDGETS["sql"].max_chars, self.timeout_s, DEFAULT_BUDGETS["sql"].memory_mb)
        self._local = threading.local()
        if isinstance(cache_size, bool) or not isinstance(cache_size, int):
            raise ConfigError("cache_size", f"got {cache_size!r}", "an integer (0 disables the gold caches)")
        self._cache_size = cache_size
        self._order_cache: LRUCache[str, bool] = LRUCache(4096)  # gold_sql -> has a top-level ORDER BY

    # pickling drops the per-thread sqlite connections and the caches
    _transient: ClassVar[dict[str, Callable[[], Any]]] = {"_local": threading.local, "_order_cache": lambda: LRUCache(4096)}

    # per-thread caches: sqlite connections are not shared across threads
    def _caches(self) -> tuple[LRUCache, LRUCache, LRUCache]:
        loc = self._local
        if not hasattr(loc, "dbs"):
            loc.dbs, loc.gold, loc.items = LRUCache(32), LRUCache(self._cache_size), LRUCache(self._cache_size)
        return loc.dbs, loc.gold, loc.items

    def _db(self, path: str) -> ReadOnlyDatabase:
        dbs, _, _ = self._caches()
        return dbs.get_or(path, lambda: ReadOnlyDatabase(path))

    def verify(self, completion: str, db_path: Any = None, gold_sql: Any = None, schema: Any = None,
               **_: Any) -> VerifyResult:
        t0 = time.perf_counter()  # the timeout covers extraction and parsing too
        comps = {k: 0.0 for k in _COMPONENTS}
        big = self.budget.too_large(completion, 0.0, comps)
        if big is not None:
            return big
        pred, why = sql_answer(completion) if self.extract else (_clean(completion or ""), "no_sql")
        if pred is not None and len(pred) > _MAX_SQL_CHARS:
            pred = None
        info: dict[str, Any] = {}
        if not isinstance(gold_sql, str) or not gold_sql.strip():
            return VerifyResult(0.0, comps, pred, error="bad_reference", info={"message": "gold_sql missing"})
        if pred is None:
            return self._result(comps, None, why or "no_sql", info)
        error: str | None = None
        tree = None
        if self.weights.get("syntax", 0.0) or self.weights.get("schema_link", 0.0):
            tree = _parse(pred)
            comps["syntax"] = float(tree is not None)
        else:
            del comps["syntax"]  # not weighted: skip the sqlglot parse (the costly part)
        db = None
        if db_path is not None and str(db_path):
            try:
                db = self._db(str(db_path))
            except (OSError, sqlite3.Error) as e:
                return VerifyResult(0.0, comps, pred, error="bad_reference", info={"message": str(e)[:300]})
        if db is not None:
            _, gold_cache, _ = self._caches()
            gold_res = gold_cache.get_or((db.path, gold_sql), lambda: db.execute(gold_sql, self.timeout_s, self.max_rows))
            gold_ordered = self._order_cache.get_or(gold_sql, lambda: gold_has_order_by(gold_sql))
            if not gold_res.ok:
                return VerifyResult(0.0, comps, pred, error="bad_reference",
                                    info={"message": f"gold query failed: {gold_res.error} {gold_res.message}"[:300]})
            remaining = self.timeout_s - (time.perf_counter() - t0)
            if remaining <= 0:
                return self._result(comps, pred, TIMEOUT, {"message": f"exceeded {self.timeout_s}s before execution"})
            res = db.execute(pred, remaining, self.max_rows)
            comps["executes"] = float(res.ok)
            if res.ok:
                comps["execution"] = float(results_match(res.rows, gold_res.rows, self.semantics, gold_ordered))
            else:
                error = res.error
                info["message"] = res.message[:300]
        if self.weights.get("schema_link", 0.0):
            sch = schema if schema is not None else (db.schema if db is not None else None)
            try:
                comps["schema_link"] = self._schema_link(sch, gold_sql, tree)
            except ConfigError as e:
                return VerifyResult(0.0, comps, pred, error="bad_reference", info={"message": str(e)})
        if self.weights.get("ngram", 0.0):
            comps["ngram"] = ngram_jaccard(pred, gold_sql, self.ngram_n)
        return self._result(comps, pred, error, info)

    def _schema_link(self, schema: Any, gold_sql: str, tree: Any) -> float:
        """Jaccard of the schema items of the predicted parse ``tree`` and of ``gold_sql`` under ``schema``
        (a mapping or its JSON text); raises :class:`ConfigError` on a malformed schema."""
        if isinstance(schema, str):
            try:
                schema = json.loads(schema)
            except json.JSONDecodeError:
                schema = "not json"
        sch = _normalize_schema(schema)
        _, _, items_cache = self._caches()
        key = (gold_sql, repr(sorted(sch.items())) if isinstance(sch, Mapping) else None)
        gold_items = items_cache.get_or(key, lambda: schema_items(gold_sql, sch))
        pred_items = _items_of_tree(tree, sch)
        return _jaccard(pred_items, gold_items) if pred_items and gold_items else 0.0

    def _result(self, comps: dict[str, float], pred: str | None, error: str | None, info: dict) -> VerifyResult:
        total = sum(self.weights.get(k, 0.0) * v for k, v in comps.items())
        if self.normalize:
            denom = sum(abs(w) for w in self.weights.values()) or 1.0
            total /= denom
        return VerifyResult(total, comps, pred, error=error, info=info)


# --------------------------------------------------------------------------------------- registry
def _sql_term(name: str, weights: Mapping[str, float], semantics: str, timeout_s: float, max_rows: int,
              ngram_n: int, normalize: bool) -> VerifierTerm:
    return SQLVerifier(semantics=semantics, weights=weights, timeout_s=timeout_s, max_rows=max_rows,
                       ngram_n=ngram_n, normalize=normalize).as_term(name)


@register_term("sql_reward", batch_kind="sample")
def sql_reward(semantics: str = "bird", weights: Mapping[str, float] | None = None, timeout_s: float = 5.0,
               max_rows: int = 10_000, ngram_n: int = 2, normalize: bool = False, name: str = "sql_reward") -> VerifierTerm:
    """Reasoning-SQL weighted reward (execution 3 + syntax 1 + schema link 1 + n-gram 1) on columns
    ``db_path``, ``gold_sql`` (and optional ``schema``)."""
    return _sql_term(name, weights or REASONING_SQL_WEIGHTS, semantics, timeout_s, max_rows, ngram_n, normalize)


@register_term("sql_execution", batch_kind="sample")
def sql_execution(semantics: str = "bird", timeout_s: float = 5.0, max_rows: int = 10_000,
                  name: str = "sql_execution") -> VerifierTerm:
    """1 if the predicted query's result matches the gold's under ``semantics``, else 0."""
    return _sql_term(name, {"execution": 1.0}, semantics, timeout_s, max_rows, 2, False)


@register_term("sql_syntax", batch_kind="sample")
def sql_syntax(name: str = "sql_syntax") -> VerifierTerm:
    """1 if sqlglot parses the extracted query as one SQLite statement (no database needed)."""
    return _SyntaxOnly().as_term(name)


@register_term("sql_schema_link", batch_kind="sample")
def sql_schema_link(name: str = "sql_schema_link") -> VerifierTerm:
    """Jaccard of the schema items (tables, table.column) of predicted vs gold query."""
    return _sql_term(name, {"schema_link": 1.0}, "bird", 5.0, 10_000, 2, False)


@register_term("sql_ngram", batch_kind="sample")
def sql_ngram(n: int = 2, name: str = "sql_ngram") -> VerifierTerm:
    """Jaccard of the token n-gram sets of predicted vs gold query (bigrams by default)."""
    return _NgramOnly(n).as_term(name)


class _SyntaxOnly(Verifier):
    name = "sql_syntax"

    def verify(self, completion: str, **_: Any) -> VerifyResult:
        big = DEFAULT_BUDGETS["sql"].too_large(completion, 0.0, {"syntax": 0.0})
        if big is not None:
            return big
        pred, why = sql_answer(completion)
        if pred is None:
            return VerifyResult(0.0, {"syntax": 0.0}, None, error=why)
        ok = sql_syntax_ok(pred)
        return VerifyResult(float(ok), {"syntax": float(ok)}, pred, error=None if ok else "parse_error")


class _NgramOnly(Verifier):
    name = "sql_ngram"
    reference_columns = ("gold_sql",)

    def __init__(self, n: int = 2):
        if n < 1:
            raise ConfigError("n", f"got {n}", "a positive integer")
        self.n = n

    def verify(self, completion: str, gold_sql: Any = None, **_: Any) -> VerifyResult:
        if not isinstance(gold_sql, str):
            return VerifyResult(0.0, error="bad_reference", info={"message": "gold_sql missing"})
        big = DEFAULT_BUDGETS["sql"].too_large(completion, 0.0, {"ngram": 0.0})
        if big is not None:
            return big
        pred, why = sql_answer(completion)
        if pred is None:
            return VerifyResult(0.0, {"ngram": 0.0}, None, error=why)
        v = ngram_jaccard(pred, gold_sql, self.n)
        return VerifyResult(v, {"ngram": v}, pred)
