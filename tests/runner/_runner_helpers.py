"""Shared helpers for the runner tests: tiny experiment files (imported by name)."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

os.environ.setdefault("OMP_NUM_THREADS", "1")

#: a 7-state chain (start 3 steps from the goal); Q-learning solves it in ~50 episodes
CHAIN = {
    "name": "chain",
    "env": {"id": "rewardkit/Chain-v0", "kwargs": {"n1": 3, "n2": 3, "max_steps": 20}},
    "learner": {"type": "q_learning", "params": {"alpha": 0.5, "epsilon": 0.2, "tie_break": "random", "gamma": 0.9}},
    "budget": {"episodes": 200},
    "eval": {"every": 50, "episodes": 5, "deterministic": True},
    "success": {"threshold": 0.8, "return_above": 5.0},
    "seeds": 2,
    "variants": {
        "env": {"reward": {"terms": [{"type": "env_reward", "name": "task"}]}},
        "bonus": {"reward": {"terms": [{"type": "env_reward", "name": "task"},
                                       {"type": "count_bonus", "name": "count",
                                        "params": {"mode": "global", "key": "explicit", "coef": 0.1}}]}},
    },
}


def write_spec(path: Path, spec: dict) -> Path:
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path



def query(db, sql: str, *args) -> list:
    """Rows of ``sql`` on the results database (its own connection, closed again)."""
    import sqlite3

    con = sqlite3.connect(db, timeout=30)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()
