"""Preference datasets on disk: JSONL rows in, :class:`PreferencePairs` out (never pickle).

The row format is the one TRL / OpenRLHF reward trainers read (research note §4):
``{"prompt": ..., "chosen": ..., "rejected": ...}`` plus optional ``"margin"`` (margin /
scaled BT, Touvron et al. 2023; Wang et al. 2024) and ``"user"`` (pluralistic models).
Text is featurised by any ``SampleBatch`` featuriser (e.g.
:class:`~rewardkit.learn.text.SentenceEmbedder`).  A malformed row (bad JSON, missing
or non-text field, non-numeric margin) is skipped and reported - it never stops a
long run; :class:`LoadReport` says how many rows were dropped and why.

:func:`save_pairs` / :func:`load_pairs` store featurised pairs as ``.npz``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Callable

import numpy as np

from ..core.batch import SampleBatch
from ..core.errors import ConfigError
from .models import read_npz
from .preferences import PreferencePairs

__all__ = ["LoadReport", "load_pairs", "read_preference_jsonl", "save_pairs"]


@dataclass
class LoadReport:
    """How many rows were read, kept and skipped (with the first few reasons)."""

    n_rows: int = 0
    n_kept: int = 0
    skipped: list[str] = field(default_factory=list)

    @property
    def n_skipped(self) -> int:
        return self.n_rows - self.n_kept


def _text(row: dict, key: str) -> str:
    v = row.get(key)
    if isinstance(v, list) and v and isinstance(v[-1], dict):  # chat format: last message's content
        v = v[-1].get("content")
    if not isinstance(v, str) or not v.strip():
        raise ValueError(f"'{key}' is missing or not text")
    return v


def read_preference_jsonl(path: str | Path, featurize: Callable[[SampleBatch], Any], *,
                          prompt_key: str = "prompt", chosen_key: str = "chosen", rejected_key: str = "rejected",
                          margin_key: str | None = "margin", user_key: str | None = None,
                          max_skipped_reasons: int = 10) -> tuple[PreferencePairs, LoadReport]:
    """Read ``prompt/chosen/rejected`` JSONL rows into featurised pairs (``a`` = chosen).

    Example:
        >>> import json, os, tempfile
        >>> p = os.path.join(tempfile.mkdtemp(), "prefs.jsonl")
        >>> rows = [{"prompt": "q", "chosen": "good answer", "rejected": "bad"}, {"prompt": "q"}, "not json"]
        >>> _ = open(p, "w").write("\\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows))
        >>> lengths = lambda b: [[len(c)] for c in b.completion_texts()]
        >>> pairs, report = read_preference_jsonl(p, lengths)
        >>> pairs.a[:, 0, 0].tolist(), pairs.b[:, 0, 0].tolist(), report.n_rows, report.n_skipped
        ([11.0], [3.0], 3, 2)
    """
    p = Path(path)
    if not p.exists():
        raise ConfigError("path", f"{str(p)!r} does not exist", "a JSONL file of preference rows")
    report = LoadReport()
    prompts, chosen, rejected, margins, users = [], [], [], [], []
    with p.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            report.n_rows += 1
            try:
                row = json.loads(line)
                if not isinstance(row, dict):
                    raise ValueError("row is not a JSON object")
                pr = row.get(prompt_key, "")
                pr = pr if isinstance(pr, (str, list)) else str(pr)
                c, r = _text(row, chosen_key), _text(row, rejected_key)
                m = 1.0
                if margin_key and margin_key in row:
                    m = float(row[margin_key])
                    if not np.isfinite(m):
                        raise ValueError(f"'{margin_key}' is not finite")
                u = 0
                if user_key:
                    u = int(row[user_key])
            except (ValueError, TypeError, KeyError) as e:
                if len(report.skipped) < max_skipped_reasons:
                    report.skipped.append(f"line {lineno}: {e}")
                continue
            prompts.append(pr), chosen.append(c), rejected.append(r), margins.append(m), users.append(u)
    report.n_kept = len(chosen)
    if not chosen:
        raise ConfigError("path", f"no valid preference rows in {str(p)!r} ({'; '.join(report.skipped[:3])})",
                          f"JSONL rows with '{chosen_key}' and '{rejected_key}' text")
    xa = np.asarray(featurize(SampleBatch(prompts, chosen)), dtype=np.float64)
    xb = np.asarray(featurize(SampleBatch(prompts, rejected)), dtype=np.float64)
    pairs = PreferencePairs(xa, xb, None, np.array(margins) if margin_key else None,
                            np.array(users) if user_key else None)
    return pairs, report


def save_pairs(pairs: PreferencePairs, path: str | Path) -> None:
    """Write featurised pairs to ``.npz`` (arrays only, no pickle)."""
    arrays = {"a": pairs.a, "b": pairs.b, "label": pairs.label}
    if pairs.margin is not None:
        arrays["margin"] = pairs.margin
    if pairs.user is not None:
        arrays["user"] = pairs.user
    np.savez(path, **arrays)


def load_pairs(path: str | Path) -> PreferencePairs:
    """Read pairs written by :func:`save_pairs`.

    Example:
        >>> import os, tempfile
        >>> p = os.path.join(tempfile.mkdtemp(), "pairs.npz")
        >>> save_pairs(PreferencePairs(np.ones((2, 3)), np.zeros((2, 3)), [1.0, 0.0]), p)
        >>> load_pairs(p).label.tolist()
        [1.0, 0.0]
    """
    z = read_npz(path, "a .npz written by save_pairs")
    if "a" not in z or "b" not in z:
        raise ConfigError("path", f"{str(Path(path))!r} lacks arrays 'a'/'b'", "a .npz written by save_pairs")
    return PreferencePairs(z["a"], z["b"], z.get("label"), z.get("margin"), z.get("user"))
