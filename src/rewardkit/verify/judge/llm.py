"""The LLM-as-a-judge reward: the judge itself, and the ``llm_judge`` term.

A *reference-based generative verifier* (Zhao, Liu et al., 2025, "One Token to
Fool LLM-as-a-Judge", arXiv:2507.08794, Sec. 2) is a language model :math:`J`
asked whether a response :math:`o` to question :math:`q` matches the reference
answer :math:`a^*`; its YES/NO verdict becomes a binary reward

.. math:: r(q, a^*, o) = g(o)\\; \\mathbb{1}\\big[\\mathrm{read}(J(\\mathrm{prompt}(q, a^*, o))) = \\mathrm{YES}\\big]

where :math:`g` is the rule-based content gate of :mod:`rewardkit.verify.gate` and
``read`` the strict final-line parser of :mod:`rewardkit.verify.judge.parse`.  In
``mode="score"`` the judge returns a number on ``score_range`` which is mapped
linearly to :math:`[0, 1]` - the RLAIF partial reward of Pourreza, Talaei et al.
(2025), "Reasoning-SQL" (arXiv:2503.23157).

One call is: gate -> prompt -> cache lookup -> rate limiter -> client, retried by
the policy of :mod:`rewardkit.verify.http` within one total deadline -> parse ->
cache store.  Nothing raises: a gated, failed, timed-out or unparsable sample gets
``fail_value`` (0 for a gated one) and a typed error.

Example:
    >>> judge = LLMJudge(lambda messages: "Verdict: YES", model="echo")
    >>> judge.verify("The answer is 4.", question="2+2?", answer="4").value
    1.0
    >>> judge.verify(":", question="2+2?", answer="4").error   # stopped by the content gate
    'gate:punctuation_only'
    >>> LLMJudge(lambda m: "Score: 2\\nScore: 10", mode="score").verify("x = 4", answer="4").error
    'unparsable_verdict'
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from rewardkit.core import ConfigError, SampleBatch, register_term

from ..budget import DEFAULT_BUDGETS, TOO_LARGE
from ..gate import ContentGate
from ..http import DeadlineExceeded, RequestError, RequestTimeout, RetryPolicy, call_with_retry
from ..result import Verifier, VerifierTerm, VerifyResult
from .cache import JudgeCache
from .client import OpenAIChatClient, as_chat_client
from .limits import RateLimiter
from .parse import Reading, read_score, read_verdict
from .prompt import DEFAULT_SCORE_TEMPLATE, DEFAULT_SYSTEM, DEFAULT_TEMPLATE, render_prompt, template_fields

__all__ = ["MAX_PROMPT_CHARS", "STATS", "LLMJudge", "llm_judge", "remote_options"]

#: the gate used when none is given (stateless, so one shared instance)
_DEFAULT_GATE = ContentGate()

#: longest rendered prompt (all messages, characters) sent to the judge; longer ones get ``too_large``
MAX_PROMPT_CHARS = 400_000
#: the counters of :meth:`LLMJudge.stats`
STATS = ("calls", "cache_hits", "retries", "failures", "gated", "unparsable", "timeouts")


class LLMJudge(Verifier):
    """A reference-based LLM judge as a :class:`~rewardkit.verify.Verifier`.

    Args:
        client: a base URL (``http://host:port/v1``), an openai-SDK-shaped client, an
            object with ``complete(model, messages, **params) -> str`` or a callable
            ``messages -> str``.
        model: model name sent to the endpoint (and part of the cache key).
        template: prompt with fields ``{question}``, ``{reference}``, ``{response}``
            (and ``{low}``/``{high}`` in score mode, plus any batch column by name).
        mode: ``"binary"`` (YES/NO -> 1/0) or ``"score"`` (number on ``score_range`` -> [0, 1]).
        reference_column: batch column holding the reference answer.
        gate: a :class:`~rewardkit.verify.gate.ContentGate` run first (``None`` disables it).
        retry: the :class:`~rewardkit.verify.http.RetryPolicy`; its ``deadline`` (default
            120 s) bounds one judge call, retries, backoff and rate-limit waits included.
        limiter, cache: see :class:`~rewardkit.verify.judge.limits.RateLimiter` and
            :class:`~rewardkit.verify.judge.cache.JudgeCache`.
        params: sampling parameters sent with each request (default ``temperature=0``).
        fail_value: reward when the judge cannot be reached, runs out of time or its
            reply is unparsable (a gated response always gets 0).
        max_workers: threads used by :meth:`verify_batch` for concurrent calls.

    Budget per sample: a completion over 200,000 characters (``DEFAULT_BUDGETS["judge"]``)
    gets 0 and ``too_large`` before the gate runs, and so does a rendered prompt (template,
    question, reference and response) over :data:`MAX_PROMPT_CHARS`: nothing that size is
    sent.  The gate is linear time below the cap; ``retry.deadline`` bounds the call.

    Errors: ``too_large``, ``gate:<reason>``, ``judge_error:<kind>`` (``http_<status>``, ``timeout``,
    ``connection``, ``deadline``, ``protocol``) and ``unparsable_verdict`` (the reason
    of :mod:`~rewardkit.verify.judge.parse` in ``info["parse_error"]``).  Counters
    (:meth:`stats`): ``calls`` (attempts), ``cache_hits``, ``retries``, ``failures``
    (calls that ended in an error), ``gated``, ``unparsable`` and ``timeouts``
    (failures by timeout or deadline).

    Example:
        >>> j = LLMJudge(lambda m: "Score: 3", model="m", mode="score", score_range=(0, 4))
        >>> j.verify("x = 3", question="q", answer="3").value
        0.75
    """

    name = "llm_judge"
    #: template fields the judge fills itself; any other ``{field}`` is read from the batch column of that name
    template_keys: tuple[str, ...] = ("question", "reference", "response", "low", "high")
    #: whether a batch may lack the reference column (then the reference is empty)
    reference_optional = False

    def __init__(self, client: Any, model: str = "judge", *, template: str | None = None,
                 system: str | None = DEFAULT_SYSTEM, mode: str = "binary",
                 score_range: Sequence[float] = (0.0, 10.0), reference_column: str = "answer",
                 gate: ContentGate | None = _DEFAULT_GATE, retry: RetryPolicy | None = None,
                 limiter: RateLimiter | None = None, cache: JudgeCache | None = None,
                 params: Mapping[str, Any] | None = None, fail_value: float = 0.0, max_workers: int = 4,
                 sleep: Callable[[float], None] = time.sleep):
        if mode not in ("binary", "score"):
            raise ConfigError("mode", f"got {mode!r}", "'binary' or 'score'")
        self.client = as_chat_client(client)
        self.model = str(model)
        self.mode = mode
        self.template = template or (DEFAULT_TEMPLATE if mode == "binary" else DEFAULT_SCORE_TEMPLATE)
        self.system = system
        self.score_range = (float(score_range[0]), float(score_range[1]))
        if self.score_range[0] == self.score_range[1]:
            raise ConfigError("score_range", f"got {list(score_range)}", "two different numbers [low, high]")
        self.reference_column = reference_column
        self.reference_columns = (reference_column,)
        unknown = template_fields(self.template) - set(self.template_keys)
        self.extra_fields = tuple(sorted(unknown))  # taken from batch columns of the same name
        self.gate = gate
        self.retry = retry or RetryPolicy()
        self.limiter = limiter or RateLimiter()
        self.cache = cache if cache is not None else JudgeCache()
        self.params = dict(params) if params is not None else {"temperature": 0.0}
        self.fail_value = float(fail_value)
        self.max_workers = max(1, int(max_workers))
        self._sleep = sleep
        self._stats_lock = threading.Lock()
        self.calls = self.cache_hits = self.retries = self.failures = self.gated = 0
        self.unparsable = self.timeouts = 0

    # -- one sample
    def messages(self, completion: str, question: str = "", reference: Any = "", **extra: Any) -> list[dict[str, str]]:
        """The chat messages sent for one sample."""
        fields = {"question": question, "reference": "" if reference is None else reference,
                  "response": completion, **self.fixed_fields()}
        missing = [k for k in self.extra_fields if k not in extra]
        if missing:
            raise ConfigError("template", f"uses field(s) {missing} with no value",
                              "fields question/reference/response or batch columns of the same name")
        fields.update({k: extra[k] for k in self.extra_fields})
        msgs = [{"role": "user", "content": render_prompt(self.template, **fields)}]
        if self.system:
            msgs.insert(0, {"role": "system", "content": self.system})
        return msgs

    def fixed_fields(self) -> dict[str, Any]:
        """Template fields that do not depend on the sample (the score range)."""
        return {"low": _num(self.score_range[0]), "high": _num(self.score_range[1])}

    def read(self, reply: str) -> Reading:
        """Parse one reply strictly (:mod:`~rewardkit.verify.judge.parse`): a verdict or a score."""
        return read_verdict(reply) if self.mode == "binary" else read_score(reply, self.score_range)

    def components(self, reading: Reading) -> dict[str, float]:
        """The named parts of a parsed reading logged with the value."""
        return {"gate": 1.0, "judge": float(reading.value or 0.0)}

    def parse_info(self, reading: Reading) -> dict[str, Any]:
        """What an unparsable reply's ``info`` says about the parse failure."""
        return {"parse_error": reading.error}

    def verify(self, completion: str, question: str = "", **refs: Any) -> VerifyResult:
        t0 = time.perf_counter()
        big = DEFAULT_BUDGETS["judge"].too_large(completion, 0.0, {"gate": 0.0})
        if big is not None:  # before the gate and before any HTTP call
            big.latency = time.perf_counter() - t0
            return big
        if self.gate is not None:
            reason = self.gate.reason(completion)
            if reason is not None:
                self._count("gated")
                return VerifyResult(0.0, {"gate": 0.0}, error=f"gate:{reason}", latency=time.perf_counter() - t0)
        reference = refs.pop(self.reference_column, refs.pop("reference", ""))
        msgs = self.messages(completion, question=question, reference=reference, **refs)
        chars = sum(len(m["content"]) for m in msgs)
        if chars > MAX_PROMPT_CHARS:
            return VerifyResult(0.0, {"gate": 0.0}, error=TOO_LARGE, latency=time.perf_counter() - t0,
                                info={"message": f"prompt has {chars} characters > {MAX_PROMPT_CHARS}"})
        key = self.cache.key(self.model, msgs, self.params)
        reply = self.cache.get(key)
        cached = reply is not None
        if cached:
            self._count("cache_hits")
        else:
            try:
                reply = self._call(msgs)
            except RequestError as e:
                self._count("failures")
                if isinstance(e, (RequestTimeout, DeadlineExceeded)):
                    self._count("timeouts")
                return VerifyResult(self.fail_value, error=f"judge_error:{e.kind}",
                                    info={"message": str(e)[:300]}, latency=time.perf_counter() - t0)
        reading = self.read(reply or "")
        if reading.value is None or reply is None:
            self._count("unparsable")
            return VerifyResult(self.fail_value, extracted=reply, error="unparsable_verdict",
                                latency=time.perf_counter() - t0,
                                info={"cached": cached, **self.parse_info(reading)})
        if not cached:
            self.cache.put(key, reply)  # only parsable replies are cached
        value = reading.value
        return VerifyResult(value, self.components(reading), extracted=reply,
                            latency=time.perf_counter() - t0, info={"cached": cached})

    def _call(self, msgs: list[dict[str, str]]) -> str:
        """One judge call: rate limits, then the client, retried within the policy's deadline."""
        chars = sum(len(m["content"]) for m in msgs)
        timed = bool(getattr(self.client, "accepts_timeout", False))
        end = None if self.retry.deadline is None else time.monotonic() + self.retry.deadline

        def attempt(_: float | None) -> str:
            self.limiter(chars)
            with self.limiter:
                left = None if end is None else end - time.monotonic()
                if left is not None and left <= 0:
                    raise DeadlineExceeded(f"deadline of {self.retry.deadline:g} s passed waiting for the rate limiter")
                self._count("calls")
                if timed:
                    return self.client.complete(self.model, msgs, timeout=left, **self.params)
                return self.client.complete(self.model, msgs, **self.params)

        return call_with_retry(attempt, self.retry, sleep=self._sleep,
                               on_retry=lambda e, d: self._count("retries"))

    def _count(self, field: str) -> None:
        with self._stats_lock:
            setattr(self, field, getattr(self, field) + 1)

    # -- a batch: the question is the prompt text, calls run concurrently
    def verify_batch(self, batch: SampleBatch) -> list[VerifyResult]:
        texts = batch.completion_texts()
        questions = batch.prompt_texts()
        cols = [self.reference_column, *self.extra_fields]
        # a missing column is a config error (BatchError), except an optional reference
        data = {c: batch.column(c, None) if c == self.reference_column and self.reference_optional else batch.column(c)
                for c in cols}

        def one(i: int) -> VerifyResult:
            return self.safe_verify(texts[i], question=questions[i], **{c: v[i] for c, v in data.items()})

        if self.max_workers == 1 or len(texts) <= 1:
            return [one(i) for i in range(len(texts))]
        with ThreadPoolExecutor(max_workers=min(self.max_workers, len(texts))) as pool:
            return list(pool.map(one, range(len(texts))))

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_stats_lock"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._stats_lock = threading.Lock()

    def stats(self) -> dict[str, int]:
        """Counters for logging (:data:`STATS`): calls, cache_hits, retries, failures, gated, unparsable, timeouts.

        Example:
            >>> j = LLMJudge(lambda m: "Hmm, hard to say.")
            >>> _ = j.verify("x = 4", answer="4"), j.verify(".", answer="4")
            >>> j.stats()
            {'calls': 1, 'cache_hits': 0, 'retries': 0, 'failures': 0, 'gated': 1, 'unparsable': 1, 'timeouts': 0}
        """
        with self._stats_lock:
            return {k: getattr(self, k) for k in STATS}


def _num(x: float) -> int | float:
    return int(x) if float(x).is_integer() else x


@register_term("llm_judge", batch_kind="sample")
def llm_judge(base_url: str, model: str = "judge", api_key_env: str = "OPENAI_API_KEY",
              template: str | None = None, system: str | None = None, mode: str = "binary",
              score_range: Sequence[float] | None = None, reference_column: str = "answer",
              timeout: float = 30.0, max_retries: int = 4, backoff: float = 0.5, rpm: float = 0.0,
              tpm: float = 0.0, max_concurrent: int = 4, cache_size: int = 4096, cache_path: str = "",
              gate: bool = True, require_answer: bool = False, fail_value: float = 0.0,
              deadline: float = 120.0, name: str = "llm_judge") -> VerifierTerm:
    """LLM-as-a-judge reward (YES/NO or score) behind the rule-based content gate.

    ``base_url`` is an OpenAI-compatible API root (``http://host:port/v1``); the key
    is read from the environment variable ``api_key_env``.  ``rpm``/``tpm`` = 0
    means unlimited.  ``cache_path`` enables the SQLite cache.  ``timeout`` caps one
    attempt and ``deadline`` one judge call, retries included (0 = no deadline).

    Example:
        >>> from rewardkit.core import build_reward
        >>> r = build_reward({"terms": [{"type": "llm_judge", "params": {"base_url": "http://127.0.0.1:9/v1",
        ...                                                              "deadline": 0.5, "max_retries": 0}}]})
        >>> r.terms["llm_judge"].verifier.retry.deadline
        0.5
    """
    judge = LLMJudge(
        model=model, template=template, system=DEFAULT_SYSTEM if system is None else system, mode=mode,
        score_range=tuple(score_range) if score_range is not None else (0.0, 10.0),
        reference_column=reference_column, fail_value=fail_value,
        **remote_options(base_url, api_key_env=api_key_env, timeout=timeout, max_retries=max_retries,
                         backoff=backoff, rpm=rpm, tpm=tpm, max_concurrent=max_concurrent, cache_size=cache_size,
                         cache_path=cache_path, gate=gate, require_answer=require_answer, deadline=deadline))
    return VerifierTerm(judge, name=name)


def remote_options(base_url: str, *, api_key_env: str = "OPENAI_API_KEY", timeout: float = 30.0,
                   max_retries: int = 4, backoff: float = 0.5, rpm: float = 0.0, tpm: float = 0.0,
                   max_concurrent: int = 4, cache_size: int = 4096, cache_path: str = "", gate: bool = True,
                   require_answer: bool = False, deadline: float = 120.0) -> dict[str, Any]:
    """The keyword arguments of :class:`LLMJudge` (and its subclasses) built from a config's flat options.

    One place for the client, gate, retry policy, rate limiter and cache that every
    registered judge term (``llm_judge``, ``rubric_judge``) configures the same way.

    Example:
        >>> kw = remote_options("http://127.0.0.1:9/v1", max_retries=0, deadline=2.0)
        >>> sorted(kw), kw["retry"].deadline
        (['cache', 'client', 'gate', 'limiter', 'max_workers', 'retry'], 2.0)
    """
    return {"client": OpenAIChatClient(base_url, api_key_env=api_key_env, timeout=timeout),
            "gate": ContentGate(require_answer=require_answer) if gate else None,
            "retry": RetryPolicy(max_retries=int(max_retries), base_delay=float(backoff), deadline=deadline or None),
            "limiter": RateLimiter(rpm=rpm or None, tpm=tpm or None, max_concurrent=max_concurrent or None),
            "cache": JudgeCache(cache_size, cache_path or None),
            "max_workers": max(1, int(max_concurrent or 4))}
