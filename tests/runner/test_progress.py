"""The run progress bar counts what really runs and never overshoots (issue #12, section 5)."""

from __future__ import annotations

import io

from _runner_helpers import CHAIN
from rich.console import Console

from rewardkit.runner.learners import planned_units
from rewardkit.runner.runner import (Evaluated, Finished, Progressed, RunTask, Started, _Progress, execute_run,
                                     run_experiment)
from rewardkit.runner.spec import parse_spec

# budget 200 is not a multiple of the rollout (2 envs x 64 steps = 128): PPO runs 256 steps
TINY_PPO = {
    "name": "tiny-ppo-progress",
    "env": {"id": "MiniGrid-DoorKey-5x5-v0", "wrappers": ["state_info", "flat_obs"], "max_episode_steps": 40},
    "learner": {"type": "ppo", "n_envs": 2, "params": {"n_steps": 64, "batch_size": 64, "n_epochs": 1}},
    "budget": {"steps": 200},
    "eval": {"every": 128, "episodes": 1, "deterministic": False},
    "seeds": [0],
    "variants": {"env": {"reward": {"terms": [{"type": "env_reward", "name": "task"}]}},
                 "env2": {"reward": {"terms": [{"type": "env_reward", "name": "task", "weight": 2.0}]}}},
}


def _console() -> Console:
    return Console(file=io.StringIO(), force_terminal=False, width=120)


def test_planned_units_rounds_ppo_up_to_whole_rollouts():
    spec = parse_spec(TINY_PPO)
    assert [planned_units(r.config) for r in spec.runs()] == [256, 256]
    chain = parse_spec(CHAIN)
    assert {planned_units(r.config) for r in chain.runs()} == {chain.budget}


def test_ppo_bar_total_is_what_runs_and_final_count_equals_it(tmp_path):
    spec = parse_spec(TINY_PPO)
    s = run_experiment(spec, tmp_path / "o", progress=True, tensorboard=False, report=False, console=_console())
    assert len(s.completed) == 2
    done, total = s.progress
    assert done == total == 2 * 256  # not 2 * 200 (the nominal budget) and never more than the total


def test_late_messages_after_finished_do_not_overshoot(tmp_path):
    """A pool's queue can deliver a run's last Progressed/Evaluated after its Finished: they must not count again."""
    spec = parse_spec(TINY_PPO)
    run = spec.runs()[0]
    task = RunTask(run.key, run.config, run.variant, run.seed, run.seed_index, spec.config_hash,
                   str(tmp_path / "r.sqlite"))
    msgs: list = []
    done = execute_run(task, msgs.append)
    assert done.status == "done" and done.steps == 256
    assert any(isinstance(m, Progressed) and m.step == 256 for m in msgs)
    bar = _Progress(spec, [run], {run.key: run.label}, _console(), enabled=True)
    with bar:
        bar.handle(Started(run.key))
        bar.handle(done)  # the future's result is handled before the queue is drained
        for m in msgs:
            bar.handle(m)
        bar.handle(Started(run.key))
    assert (bar.completed, bar.total_units) == (256, 256)
    task_total = bar.progress.tasks[0]
    assert (task_total.completed, task_total.total) == (256, 256)
    assert len(bar.progress.tasks) == 1  # no per-run bar resurrected by the late messages


def test_progress_is_clamped_and_corrected_to_the_units_a_run_reports():
    spec = parse_spec(CHAIN)
    runs = spec.runs()[:2]
    bar = _Progress(spec, runs, {r.key: r.label for r in runs}, _console(), enabled=False)
    a, b = runs[0].key, runs[1].key
    bar.handle(Progressed(a, 10 * spec.budget))  # a learner reporting past its plan is clamped
    assert bar.completed == spec.budget
    bar.handle(Evaluated(b, 50, 1.0, 1.0))
    bar.handle(Finished(b, "done", steps=spec.budget + 7))  # a plugin learner ran 7 units more than planned
    bar.handle(Finished(a, "failed", "boom"))
    assert (bar.completed, bar.total_units) == (2 * spec.budget + 7, 2 * spec.budget + 7)
