"""Build every registered term, and batches it can score, for the tests that must cover them all.

Used by ``tests/core/test_state_roundtrip.py`` (issue 9, item 6) and
``tests/integrations_llm/test_pickling.py`` (issue 10, item 1); one place for both.

A term is built from its registered ``example`` params (plain data, declared with
``register_term(..., example=...)``), else from a builder in :data:`BUILDERS` for the
terms whose params cannot be plain data: trained model files, a live judge server, a
sandbox tuned for speed.  Terms that read special batch content get it from
:data:`ADAPT` (a real MiniGrid rollout, reward-machine states, code with a unit test,
answers a judge can match).  :func:`missing` names every registered term that can be
built by neither, so both tests fail when a new term comes without an example.
"""

from __future__ import annotations

import importlib.util
import inspect
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from rewardkit.core import SampleBatch, TransitionBatch, available_terms

#: terms on Discrete (integer) observations: states 0..5, actions 0..2
DISCRETE = {"explors", "look_back_advice", "potential_shaping"}
N_ACTIONS = 3
OBS_DIM = 4


class TermContext:
    """Artifacts the builders need, made on first use under ``root`` (closed by :func:`term_context`)."""

    def __init__(self, root: Path, stack: ExitStack):
        self.root = Path(root)
        self.stack = stack

    @cached_property
    def reward_model_path(self) -> str:
        """A Bradley-Terry MLP reward on (obs, one-hot action), trained for a few epochs on random pairs."""
        from rewardkit.learn import PreferencePairs, fit_bt

        rng = np.random.default_rng(0)
        d = OBS_DIM + N_ACTIONS
        xa, xb = rng.normal(size=(40, d)), rng.normal(size=(40, d))
        w = rng.normal(size=d)
        model = fit_bt(PreferencePairs(xa, xb, (xa @ w > xb @ w).astype(float)), hidden=(8,), epochs=3, seed=0)
        path = self.root / "reward_model.npz"
        model.save(path)
        return str(path)

    def _discriminator(self, kind: str) -> str:
        from rewardkit.learn import fit_discriminator

        rng = np.random.default_rng(1)

        def data(n: int) -> dict[str, Any]:
            return {"obs": rng.normal(size=(n, OBS_DIM)), "action": np.eye(N_ACTIONS)[rng.integers(0, N_ACTIONS, n)],
                    "next_obs": rng.normal(size=(n, OBS_DIM))}

        model = fit_discriminator(kind, data(32), data(32), gamma=0.9, hidden=(8,), steps=5, batch_size=16, seed=0)
        path = self.root / f"{kind}.npz"
        model.save(path)
        return str(path)

    @cached_property
    def gail_path(self) -> str:
        """A GAIL discriminator trained for 5 steps on random transitions."""
        return self._discriminator("gail")

    @cached_property
    def airl_path(self) -> str:
        """An AIRL model (g, h) trained for 5 steps on random transitions."""
        return self._discriminator("airl")

    @cached_property
    def judge_url(self) -> str:
        """A scripted OpenAI-compatible judge on loopback (YES iff the reference is in the response)."""
        path = Path(__file__).resolve().parent / "verify_judge" / "fake_openai.py"
        spec = importlib.util.spec_from_file_location("term_examples_fake_openai", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return self.stack.enter_context(mod.FakeOpenAI(mode="match")).base_url

    @cached_property
    def doorkey_infos(self) -> tuple[list[dict[str, Any]], np.ndarray]:
        """Infos and terminated flags of a random-action ``MiniGrid-DoorKey-5x5-v0`` rollout through
        ``MiniGridStateInfo`` (privileged states of s and s')."""
        import gymnasium as gym
        import minigrid  # noqa: F401  (registers the MiniGrid envs)

        from rewardkit.integrations.minigrid import MiniGridStateInfo

        env = MiniGridStateInfo(gym.make("MiniGrid-DoorKey-5x5-v0", max_steps=40))
        rng = np.random.default_rng(0)
        infos, terminated = [], []
        for ep in range(2):
            env.reset(seed=ep)
            done = False
            while not done:
                _, _, term, trunc, info = env.step(int(rng.integers(0, 6)))
                infos.append(info)
                terminated.append(term)
                done = term or trunc
        env.close()
        return infos, np.array(terminated, dtype=bool)


#: params of terms that cannot be declared as plain data with their registration
BUILDERS: dict[str, Callable[[TermContext], dict[str, Any]]] = {
    "reward_model": lambda ctx: {"path": ctx.reward_model_path, "n_actions": N_ACTIONS},
    "gail_reward": lambda ctx: {"path": ctx.gail_path, "n_actions": N_ACTIONS},
    "airl_reward": lambda ctx: {"path": ctx.airl_path, "n_actions": N_ACTIONS},
    "llm_judge": lambda ctx: {"base_url": ctx.judge_url, "model": "fake", "max_retries": 0, "timeout": 5.0},
    "rubric_judge": lambda ctx: {"base_url": ctx.judge_url, "model": "fake", "max_retries": 0, "timeout": 5.0,
                                 "criteria": [{"name": "correct", "weight": 2}, {"name": "clear", "scale": 3}]},
    # the warm fork-server sandbox, one worker: a few ms per solution
    "code_tests": lambda ctx: {"backend": "auto", "workers": 1},
}


def missing() -> list[str]:
    """Registered terms with required params but neither a registered ``example`` nor a builder here."""
    out = []
    for name, spec in available_terms().items():
        if name.startswith(("doc_", "test_")):  # registered by doctests and other tests
            continue
        required = [k for k, p in spec.parameters().items() if p.default is inspect.Parameter.empty]
        if required and spec.example is None and name not in BUILDERS:
            out.append(name)
    return out


def term_names() -> list[str]:
    """Every registered built-in term (not the ones doctests and tests register)."""
    return sorted(n for n in available_terms() if not n.startswith(("doc_", "test_")))


def params(name: str, ctx: TermContext) -> dict[str, Any]:
    """Minimal valid params of term ``name``: its builder's, else its registered example, else none."""
    if name in BUILDERS:
        return BUILDERS[name](ctx)
    return dict(available_terms()[name].example or {})


def build(name: str, ctx: TermContext) -> Any:
    """A fresh instance of term ``name``."""
    return available_terms()[name].factory(**params(name, ctx))


def transition_batch(rng: np.random.Generator, n: int, discrete: bool = False) -> TransitionBatch:
    """Random transitions: ``(n, 4)`` float observations (or states 0..5), actions 0..2, ``info["x"]``."""
    shape = (n,) if discrete else (n, OBS_DIM)
    hi = 6 if discrete else 4
    obs, nxt = rng.integers(0, hi, shape), rng.integers(0, hi, shape)
    if not discrete:
        obs, nxt = obs.astype(np.float64), nxt.astype(np.float64)
    return TransitionBatch.from_arrays(obs, rng.integers(0, N_ACTIONS, n), nxt, rng.normal(size=n),
                                       terminated=rng.random(n) < 0.2, truncated=rng.random(n) < 0.1,
                                       info=[{"x": float(v)} for v in rng.normal(size=n)], env_index=np.arange(n))


def sample_batch(rng: np.random.Generator, n: int) -> SampleBatch:
    """Random ``<think>/<answer>`` completions with ``answer`` and ``correct`` columns."""
    comps = [f"<think>x</think><answer>{int(rng.integers(0, 5))}</answer>" * int(rng.integers(1, 3))
             for _ in range(n)]
    return SampleBatch(["q"] * n, comps, {"answer": [str(int(rng.integers(0, 5))) for _ in range(n)],
                                          "correct": [bool(rng.integers(0, 2)) for _ in range(n)]})


def _doorkey(batch: TransitionBatch, rng: np.random.Generator, ctx: TermContext) -> TransitionBatch:
    infos, terminated = ctx.doorkey_infos
    rows = rng.integers(0, len(infos), len(batch))
    return TransitionBatch.from_arrays(batch.obs, batch.action, batch.next_obs, batch.reward,
                                       terminated=terminated[rows], truncated=batch.truncated,
                                       info=[infos[i] for i in rows], env_index=batch.env_index)


def _rm_states(batch: TransitionBatch, rng: np.random.Generator, ctx: TermContext) -> TransitionBatch:
    u = rng.integers(0, 2, len(batch))
    u2 = np.minimum(u + rng.integers(0, 2, len(batch)), 2)
    info = [{**inf, "rm_state": int(a), "rm_next_state": int(b)} for inf, a, b in zip(batch.info, u, u2, strict=True)]
    return TransitionBatch.from_arrays(batch.obs, batch.action, batch.next_obs, batch.reward,
                                       terminated=batch.terminated, truncated=batch.truncated, info=info,
                                       env_index=batch.env_index)


def _code(batch: SampleBatch, rng: np.random.Generator, ctx: TermContext) -> SampleBatch:
    ks = rng.integers(0, 3, len(batch))
    comps = [f"```python\ndef f():\n    return {int(k)}\n```" for k in ks]
    return SampleBatch(batch.prompt_texts(), comps, {"tests": [["assert f() == 1"]] * len(batch)})


def _judged(batch: SampleBatch, rng: np.random.Generator, ctx: TermContext) -> SampleBatch:
    ks = rng.integers(0, 5, len(batch))
    comps = [f"<think>Adding the two numbers step by step.</think><answer>The result is {int(k)}</answer>" for k in ks]
    return SampleBatch(batch.prompt_texts(), comps, {"answer": batch.column("answer")})


#: terms that read batch content the generic batches lack: name -> fn(batch, rng, ctx) -> batch
ADAPT: dict[str, Callable[[Any, np.random.Generator, TermContext], Any]] = {
    "minigrid_doorkey_shaping": _doorkey,
    "rm_shaping": _rm_states,
    "code_tests": _code,
    "llm_judge": _judged,
    "rubric_judge": _judged,
}


def batch_for(name: str, kind: str, rng: np.random.Generator, n: int, ctx: TermContext) -> Any:
    """A batch term ``name`` (of ``batch_kind`` ``kind``) can score."""
    b = sample_batch(rng, n) if kind == "sample" else transition_batch(rng, n, name in DISCRETE)
    return ADAPT[name](b, rng, ctx) if name in ADAPT else b


@contextmanager
def term_context(root: Path) -> Iterator[TermContext]:
    """A :class:`TermContext` whose judge server (if started) is stopped on exit."""
    with ExitStack() as stack:
        yield TermContext(root, stack)
