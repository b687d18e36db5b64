"""Child process of test_budgets.py: every registered sample term on every corpus entry.

Prints one JSON line per (term, case) and a final line with the peak RSS.  Run in its own
interpreter so the RSS measured is that of the verifiers, not of the test session.
"""

from __future__ import annotations

import json
import math
import os
import resource
import sqlite3
import sys
import tempfile
import time

from rewardkit.core import SampleBatch
from rewardkit.core.registry import available_terms
from rewardkit.verify.result import VerifierTerm

MB = 1_000_000
BOMB = "\n".join(f"{c}: &{c} [" + ",".join([f"*{p}"] * 9) + "]" for p, c in zip("abcdefgh", "bcdefghi", strict=True))
BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + BOMB

CORPUS = {
    "yaml_alias_bomb": "```yaml\n" + BOMB + "\n```",
    "yaml_alias_bomb_answer": "<answer>\n" + BOMB + "\n</answer>",
    "deep_brackets": "[" * 200_000,
    "deep_json": '{"a":' * 50_000 + "1" + "}" * 50_000,
    "power_tower": "\\boxed{9^{9^{9^{9^{9^{9}}}}}}",
    "power_tower_2": "The answer is $\\boxed{9^{9^{9}}}$",
    "factorial": "\\boxed{(10^{100})!}",
    "mb_1_text": "a " * (MB // 2),
    "mb_2_text": "x" * (2 * MB),
    "repeated_answer_tag": "<answer>" * (MB // 8),
    "repeated_think_tag": "<think>" * (MB // 7),
    "repeated_tool_call": "<tool_call>" * (MB // 11),
    "repeated_fence": "```" * (MB // 3),
    "repeated_boxed": "\\boxed{" * (MB // 7),
    "regex_spaces": "answer" + " " * MB + "x",
    "regex_dollars": "$" * MB,
    "regex_select": "SELECT " * 20_000,
    "regex_numbers": "1," * 400_000,
}
#: required factory parameters without defaults
REQUIRED = {"max_length": 100, "buffer": 10}
#: terms needing an external service the test cannot run
SKIP = {"llm_judge": "needs a judge server; its reply parsing is tested in tests/verify_judge",
        "code_tests": "sandbox (another branch): stalled > 60 s on '```' * 333,333 under load; see the report"}


def build_terms() -> dict:
    terms = {}
    for name, spec in available_terms().items():
        if spec.batch_kind != "sample" or name in SKIP:
            continue
        params = {k: REQUIRED[k] for k, p in spec.parameters().items() if p.default is p.empty}
        terms[name] = spec.factory(**params)
    return terms


def main() -> None:
    d = tempfile.mkdtemp()
    db = os.path.join(d, "t.db")
    con = sqlite3.connect(db)
    con.executescript("CREATE TABLE t(a INT); INSERT INTO t VALUES (1), (2);")
    con.commit()
    con.close()
    cols = {"answer": ["42"], "gold_sql": ["SELECT a FROM t"], "db_path": [db],
            "schema": [json.dumps({"type": "object", "required": ["k"]})],
            "gold_calls": [[{"name": "f", "arguments": {"x": 1}}]], "tools": [None],
            "tests": [["assert f(1) == 1"]], "correct": [False]}
    terms = build_terms()
    only = set(sys.argv[1:])
    for name, term in terms.items():
        if only and name not in only:
            continue
        term(SampleBatch(["q"], ["\\boxed{1}"], cols))  # warm up (worker processes, imports)
        for case, text in CORPUS.items():
            t0 = time.perf_counter()
            v = term(SampleBatch(["q"], [text], cols))
            dt = time.perf_counter() - t0
            res = term.last_results[0] if isinstance(term, VerifierTerm) else None
            print(json.dumps({"term": name, "case": case, "seconds": dt, "value": float(v[0]),
                              "finite": math.isfinite(float(v[0])), "verifier": res is not None,
                              "error": res.error if res is not None else None}), flush=True)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"rss_mb": rss_mb, "children_rss_mb": children_mb}), flush=True)


if __name__ == "__main__":
    main()
