"""The one result type every verifier returns, and the adapter to the reward protocol.

A verifier scores one model output against its references and returns a
:class:`VerifyResult`.  It **never raises on bad model output**: malformed,
empty, adversarial or huge completions give a result with ``error`` set and a
finite ``value``.  :class:`Verifier.verify_batch` additionally guards against bugs
(any exception becomes ``error="internal:<ExceptionType>"``) so one bad row can
never crash a long run.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Mapping, Sequence

import numpy as np

from rewardkit.core import RewardTerm, SampleBatch

__all__ = ["Verifier", "VerifierTerm", "VerifyResult"]


@dataclass
class VerifyResult:
    """Structured outcome of verifying one sample.

    Attributes:
        value: the reward (finite float).
        components: named partial scores that make up ``value``.
        extracted: the answer/code/query the verifier extracted, if any.
        error: ``None`` on a clean verdict, else a short error type such as
            ``"no_answer"``, ``"parse_error"``, ``"timeout"``, ``"runtime_error"``,
            ``"schema_violation"`` or ``"internal:<Exception>"``.
        latency: seconds spent verifying.
        info: free-form details (extraction trace, violations, stdout tail …).

    Example:
        >>> VerifyResult(1.0, {"correct": 1.0}, "42").ok
        True
    """

    value: float
    components: dict[str, float] = field(default_factory=dict)
    extracted: Any = None
    error: str | None = None
    latency: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        v = float(self.value)
        self.value = v if math.isfinite(v) else 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


class Verifier:
    """Base class: implement :meth:`verify` for one sample.

    ``reference_columns`` names the batch columns passed to :meth:`verify` as keyword
    arguments (e.g. ``("answer",)``).  :meth:`verify_batch` maps a
    :class:`~rewardkit.core.SampleBatch` to one result per sample; subclasses with a
    faster batched path (parse each gold once per GRPO group, a process pool …)
    override it.

    Example:
        >>> from rewardkit.core import SampleBatch
        >>> class Exact(Verifier):
        ...     reference_columns = ("answer",)
        ...     def verify(self, completion, answer=None, **_):
        ...         return VerifyResult(float(completion.strip() == str(answer)), extracted=completion.strip())
        >>> [r.value for r in Exact().verify_batch(SampleBatch(["q", "q"], ["4", "5"], {"answer": ["4", "4"]}))]
        [1.0, 0.0]
    """

    name: str = "verifier"
    reference_columns: Sequence[str] = ()

    def verify(self, completion: str, **references: Any) -> VerifyResult:  # pragma: no cover - abstract
        raise NotImplementedError

    def verify_batch(self, batch: SampleBatch) -> list[VerifyResult]:
        texts = batch.completion_texts()
        cols = {c: batch.column(c) for c in self.reference_columns if c in batch.columns}
        out = []
        for i, text in enumerate(texts):
            refs = {c: v[i] for c, v in cols.items()}
            out.append(self.safe_verify(text, **refs))
        return out

    def safe_verify(self, completion: Any, **references: Any) -> VerifyResult:
        """:meth:`verify`, but any exception becomes an ``internal:`` error result."""
        t0 = time.perf_counter()
        try:
            if not isinstance(completion, str):
                completion = "" if completion is None else str(completion)
            r = self.verify(completion, **references)
        except Exception as e:  # never let one bad row crash a run
            r = VerifyResult(0.0, error=f"internal:{type(e).__name__}", info={"message": str(e)[:500]})
        if not r.latency:
            r.latency = time.perf_counter() - t0
        return r

    def as_term(self, name: str | None = None) -> VerifierTerm:
        """This verifier as a :class:`~rewardkit.core.RewardTerm` on sample batches."""
        return VerifierTerm(self, name=name or self.name)


class VerifierTerm(RewardTerm):
    """Adapter: a :class:`Verifier` as a reward term on :class:`SampleBatch`.

    The last batch's results stay in ``last_results`` for logging (errors, latency,
    extracted answers).

    Example:
        >>> from rewardkit.core import SampleBatch
        >>> class Nonempty(Verifier):
        ...     def verify(self, completion, **_):
        ...         return VerifyResult(float(bool(completion.strip())))
        >>> Nonempty().as_term("nonempty")(SampleBatch(["q", "q"], ["x", " "])).tolist()
        [1.0, 0.0]
    """

    batch_kind = "sample"

    def __init__(self, verifier: Verifier, name: str | None = None):
        super().__init__(name or verifier.name)
        self.verifier = verifier
        self.last_results: list[VerifyResult] = []

    def compute(self, batch: SampleBatch) -> np.ndarray:
        self.last_results = self.verifier.verify_batch(batch)
        return np.array([r.value for r in self.last_results], dtype=np.float64)

    def error_counts(self) -> Mapping[str, int]:
        """How many samples of the last batch ended in each error type."""
        counts: dict[str, int] = {}
        for r in self.last_results:
            if r.error:
                counts[r.error] = counts.get(r.error, 0) + 1
        return counts
