"""One reward-server request, scored in one process: JSON bytes in, ``(status, JSON bytes)`` out.

:class:`RequestScorer` is what each worker process of ``rewardkit serve`` runs (see
:mod:`rewardkit.integrations.serve_pool`).  It does everything that depends on the
body, so the server's event loop only checks the token, reads at most
``max_body_bytes`` and hands the raw bytes over:

1. parse the JSON (``400``-class errors are ``422`` naming ``body``);
2. count the items *before* validating them: more than ``max_items`` gets ``413``
   (``{"error": ..., "type": "too_many_items"}``), so a 500k-item request costs one
   ``json.loads`` in one worker, not a scoring pass;
3. validate with pydantic; ``422`` names the field path (``query[2]``, ``columns.answer``);
4. score: OpenRLHF's ``/get_reward`` (Hu et al., 2024, arXiv:2405.11143) through
   :class:`~rewardkit.integrations.openrlhf.OpenRLHFRewardFunc`, or the native
   ``/v1/reward`` through :func:`~rewardkit.integrations.trl.score_samples`.
   :class:`~rewardkit.core.BatchError`/:class:`~rewardkit.core.ConfigError` -> ``422``,
   any other exception -> ``500`` with its type and no traceback.

Example:
    >>> from rewardkit.core import Constant
    >>> scorer = RequestScorer(Constant(1.0, "bonus"), ServeOptions(max_items=2))
    >>> scorer.handle("get_reward", b'{"query": ["a", "b"]}')
    (200, b'{"rewards": [1.0, 1.0], "scores": [1.0, 1.0], "extra_logs": {"bonus": [1.0, 1.0], "split_error": [0.0, 0.0]}}')
    >>> scorer.handle("get_reward", b'{"query": ["a", "b", "c"]}')[0]
    413
    >>> scorer.handle("v1", b'{"prompts": ["p"], "completions": [7]}')  # doctest: +ELLIPSIS
    (422, b'{"error": "completions[0]: Input should be a valid string or Input should be a valid list", ...}')
"""

from __future__ import annotations

import json
import math
import pickle
import re
from dataclasses import dataclass
from typing import Any

from rewardkit.core import BatchError, ConfigError

from .openrlhf import DEFAULT_STRIP_TOKENS, OpenRLHFRewardFunc
from .trl import _as_composed, score_samples

__all__ = ["DEFAULT_MAX_ITEMS", "ENDPOINTS", "RequestScorer", "ServeOptions", "build_from_source"]

DEFAULT_MAX_ITEMS = 16384
ENDPOINTS = ("get_reward", "v1")

_TYPE_TAG = re.compile(r"^(str|int|float|bool|none|list\[.*\]|dict\[.*\]|function-.*)$", re.I)


@dataclass(frozen=True)
class ServeOptions:
    """Per-server settings every worker needs (picklable; sent to each worker at start).

    Example:
        >>> ServeOptions(max_items=8).label_column
        'answer'
    """

    label_column: str = "answer"
    scores_term: str | None = None
    strip_tokens: tuple[str, ...] = DEFAULT_STRIP_TOKENS
    max_items: int = DEFAULT_MAX_ITEMS


def field_path(loc: Any) -> str:
    """``("body", "query", 2)`` -> ``query[2]`` (pydantic's union-member type tags dropped).

    Example:
        >>> field_path(("body", "columns", "answer", 1))
        'columns.answer[1]'
    """
    parts = [p for p in loc if p != "body" and not (isinstance(p, str) and _TYPE_TAG.match(p))]
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else ("." if out else "") + str(p)
    return out or "body"


def _finite(v: Any) -> Any:
    if v is None:
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def _models() -> tuple[Any, Any]:
    from pydantic import BaseModel, ConfigDict, Field

    Text = str | list[dict[str, Any]]

    class GetRewardRequest(BaseModel):
        """OpenRLHF remote reward-model request."""

        model_config = ConfigDict(extra="ignore")
        query: list[str] = Field(..., description="prompt + response, decoded")
        prompts: list[str] | None = None
        labels: list[Any] | None = None

    class RewardRequest(BaseModel):
        """rewardkit native batch request."""

        model_config = ConfigDict(extra="forbid")
        prompts: list[Text]
        completions: list[Text]
        columns: dict[str, list[Any]] = Field(default_factory=dict)

    return GetRewardRequest, RewardRequest


GetRewardRequest, RewardRequest = _models()


def _error(status: int, message: str, kind: str, detail: Any = None) -> tuple[int, bytes]:
    payload: dict[str, Any] = {"error": message, "type": kind}
    if detail is not None:
        payload["detail"] = detail
    return status, json.dumps(payload).encode()


def _validation_error(exc: Any) -> tuple[int, bytes]:
    merged: dict[str, list[str]] = {}
    for e in exc.errors():
        msgs = merged.setdefault(field_path(e.get("loc", ())), [])
        if e.get("msg") and e["msg"] not in msgs:
            msgs.append(e["msg"])
    details = [{"field": f, "message": " or ".join(m)} for f, m in merged.items()]
    first = details[0] if details else {"field": "body", "message": "invalid"}
    return _error(422, f"{first['field']}: {first['message']}", "invalid", details)


def _item_count(endpoint: str, data: dict[str, Any]) -> int:
    keys = ("query", "prompts", "labels") if endpoint == "get_reward" else ("prompts", "completions")
    counts = [len(data[k]) for k in keys if isinstance(data.get(k), list)]
    cols = data.get("columns")
    if endpoint == "v1" and isinstance(cols, dict):
        counts += [len(v) for v in cols.values() if isinstance(v, list)]
    return max(counts, default=0)


class RequestScorer:
    """Parse, cap, validate and score one request body (see module docs)."""

    def __init__(self, reward: Any, options: ServeOptions | None = None):
        self.options = options or ServeOptions()
        self.reward = _as_composed(reward)
        self.openrlhf = OpenRLHFRewardFunc(self.reward, label_column=self.options.label_column,
                                           scores_term=self.options.scores_term,
                                           strip_tokens=self.options.strip_tokens, as_tensors=False)

    def handle(self, endpoint: str, body: bytes) -> tuple[int, bytes]:
        """Score ``body`` for ``endpoint`` (``"get_reward"`` or ``"v1"``); never raises."""
        from pydantic import ValidationError

        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as e:
            return _error(422, f"body: not valid JSON ({str(e)[:120]}); expected a JSON object", "invalid_json")
        if not isinstance(data, dict):
            return _error(422, f"body: is a JSON {type(data).__name__}; expected a JSON object", "invalid")
        n = _item_count(endpoint, data)
        if n > self.options.max_items:
            return _error(413, f"items: {n} in one request; expected at most {self.options.max_items} "
                               "(split the batch)", "too_many_items")
        try:
            if endpoint == "get_reward":
                out = self._get_reward(GetRewardRequest.model_validate(data))
            else:
                out = self._native(RewardRequest.model_validate(data))
        except ValidationError as e:
            return _validation_error(e)
        except (BatchError, ConfigError) as e:
            return _error(422, str(e), "invalid")
        except Exception as e:  # a bug in a term: report the type, never a traceback
            return _error(500, f"reward evaluation failed: {type(e).__name__}: {str(e)[:200]}", "internal")
        return 200, json.dumps(out).encode()

    def _get_reward(self, req: Any) -> dict[str, Any]:
        return self.openrlhf.compute(req.query, req.prompts, req.labels)

    def _native(self, req: Any) -> dict[str, Any]:
        n = len(req.completions)
        if len(req.prompts) != n:
            raise ConfigError("prompts", f"has {len(req.prompts)} entries for {n} completions",
                              "one prompt per completion")
        for k, v in req.columns.items():
            if len(v) != n:
                raise ConfigError(f"columns.{k}", f"has {len(v)} entries for {n} completions",
                                  "one entry per completion")
        scored = score_samples(self.reward, req.prompts, req.completions, req.columns)
        return {"rewards": [_finite(v) for v in scored.result.total],
                "terms": {k: [_finite(x) for x in scored.term_values(k)] for k in scored.term_names},
                "weights": scored.result.weights,
                "errors": scored.errors}


def build_from_source(source: tuple[str, Any]) -> Any:
    """Build a reward from ``("config", path | mapping)`` or ``("pickle", bytes)`` (what workers receive).

    Example:
        >>> build_from_source(("config", {"terms": [{"type": "constant", "params": {"value": 2.0}}]})).weights
        {'constant': 1.0}
    """
    import importlib

    from rewardkit.core import load_reward
    from rewardkit.core.config import build_reward_document

    for mod in ("rewardkit.verify.gate", "rewardkit.verify.judge"):  # register content_gate and llm_judge
        importlib.import_module(mod)

    kind, value = source
    if kind == "pickle":
        return pickle.loads(value)
    if isinstance(value, dict):
        return build_reward_document(value)
    return load_reward(value)


def _serve(conn: Any) -> None:
    """Worker loop: first message ``(source, options)``, then ``(endpoint, body)`` jobs until EOF/None."""
    from rewardkit.core.interpreter import serve_jobs

    def setup(message: Any) -> RequestScorer:
        source, options = message
        return RequestScorer(build_from_source(source), options)

    serve_jobs(conn, setup, lambda scorer, job: scorer.handle(*job))
