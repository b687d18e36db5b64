"""rewardkit audit: the three targets on the built-in examples, a hackable reward that turns red, and bad input."""

import json

import numpy as np
import pytest

from rewardkit.cli.main import main
from rewardkit.core.config import build_reward
from rewardkit.runner.audit.env import audit_env
from rewardkit.runner.audit.rm import audit_rm
from rewardkit.runner.audit.samples import audit_samples, read_jsonl

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _audit(tmp_path, *args):
    rc = main(["audit", *args, "--out", str(tmp_path), "--json"])
    summary = json.loads((tmp_path / "audit.json").read_text())
    assert (tmp_path / "audit.html").read_text().count("<tr>") >= len(summary["checks"])
    return rc, summary, {c["name"]: c for c in summary["checks"]}


def test_env_example_potential_shaping_is_certified_green(tmp_path):
    rc, summary, by = _audit(tmp_path, "--example", "env", "--steps", "2500")
    assert rc == 0
    assert by["potential"]["status"] == "green" and by["potential"]["value"] < 1e-6
    assert by["farming"]["status"] == "green"
    assert by["epic"]["value"] < 1e-6                         # shaping is invisible to EPIC
    assert summary["status"] != "red"


def test_hackable_env_reward_turns_red(tmp_path):
    rc, summary, by = _audit(tmp_path, "--example", "hackable", "--steps", "2500", "--fail-on", "red")
    assert rc == 1 and summary["status"] == "red"
    assert by["farming"]["status"] == "red" and by["farming"]["value"] > 0.5
    assert by["potential"]["status"] == "yellow"


def test_samples_example_and_a_master_key_reward(tmp_path, capsys):
    rc, summary, by = _audit(tmp_path / "a", "--example", "samples")
    assert rc == 0 and by["master_key"]["status"] == "green" and by["injection"]["status"] == "green"
    assert by["latency"]["details"]["p99"] < 2.0
    cfg = tmp_path / "free.yaml"
    cfg.write_text("reward:\n  terms:\n    - {type: constant, name: free, params: {value: 1.0}}\n")
    from importlib import resources
    data = str(resources.files("rewardkit") / "data" / "audit" / "samples.jsonl")
    _, summary, by = _audit(tmp_path / "b", str(cfg), "--samples", data)
    assert by["master_key"]["status"] == "red" and by["master_key"]["value"] == 1.0
    assert summary["status"] == "red"


def test_rm_example_accuracy_baselines_and_overoptimization(tmp_path):
    _, _, by = _audit(tmp_path, "--example", "rm")
    assert by["accuracy"]["value"] == 1.0 and by["accuracy"]["status"] == "green"
    assert by["baselines"]["value"] > 0.1
    assert by["overoptimization"]["status"] == "green"


def test_rm_that_prefers_length_loses_to_its_baseline():
    rows = [{"prompt": "q", "chosen": "short right", "rejected": "a much longer but wrong answer " * (1 + i % 3)}
            for i in range(30)]
    rm = build_reward({"terms": [{"type": "overlong_penalty", "name": "len", "params": {"max_length": 5, "buffer": 4,
                                                                                        "unit": "char"}}]})
    checks, _ = audit_rm(rm, rows, n_boot=50)
    by = {c.name: c for c in checks}
    assert by["baselines"].value <= 0.0 and by["baselines"].status == "red"


_LONGER_IS_BETTER = {"terms": [{"type": "overlong_penalty", "name": "len", "weight": -1.0,
                                "params": {"max_length": 40, "buffer": 39, "unit": "char"}}]}


def test_overoptimization_detected_when_the_rm_prefers_what_gold_dislikes():
    rng = np.random.default_rng(0)
    rows = []
    for _ in range(64):   # gold likes answers under 30 chars; the RM likes length
        n = int(rng.integers(1, 40))
        rows.append({"prompt": "q", "chosen": "x" * n, "rejected": "x" * (n + 3),
                     "chosen_gold": float(n < 30), "rejected_gold": float(n + 3 < 30)})
    checks, _ = audit_rm(build_reward(_LONGER_IS_BETTER), rows, n_boot=20)
    by = {c.name: c for c in checks}
    assert by["overoptimization"].status == "red"
    assert by["overoptimization"].details["gold"][-1] < max(by["overoptimization"].details["gold"])
    constant = build_reward({"terms": [{"type": "constant", "name": "c", "params": {"value": 0.0}}]})
    flat, _ = audit_rm(constant, rows, n_boot=20)
    assert {c.name: c.status for c in flat}["accuracy"] == "red"      # all ties: 0.5


def test_env_audit_flags_a_non_potential_bonus_and_certifies_on_tabular_env():
    task_only = build_reward({"terms": [{"type": "env_reward", "name": "task"}]})
    checks, _ = audit_env(task_only, {"id": "rewardkit/FourRooms-v0"}, steps=2000)
    assert {c.name: c.status for c in checks}["potential"] == "green"
    alive = build_reward({"terms": [{"type": "env_reward", "name": "task"}, {"type": "alive", "name": "a", "weight": 0.5}]})
    checks, _ = audit_env(alive, {"id": "rewardkit/FourRooms-v0"}, steps=2000)
    pot = {c.name: c for c in checks}["potential"]
    assert pot.status == "red" and pot.details["certificate"] and pot.value < 0


def test_env_audit_flags_tampering_on_the_honeypot(tmp_path):
    cfg = tmp_path / "task.yaml"
    cfg.write_text("reward:\n  terms:\n    - {type: env_reward, name: task}\n")
    _, _, by = _audit(tmp_path / "out", str(cfg), "--env", "rewardkit/TamperHoneypot-v0", "--steps", "500")
    assert by["tampering"]["status"] == "red" and by["tampering"]["value"] > 0
    _, _, by = _audit(tmp_path / "out2", str(cfg), "--env", "rewardkit/Chain-v0", "--steps", "300")
    assert by["tampering"]["status"] == "skipped"


def test_read_jsonl_skips_bad_rows_and_keeps_good_ones(tmp_path):
    p = tmp_path / "s.jsonl"
    p.write_text('{"prompt": "q", "completion": "a"}\n[1]\n{"prompt": "q"}\n' + "x" * 50 + "\n")
    rows, skipped = read_jsonl(p, ["prompt", "completion"], max_line_bytes=40)
    assert len(rows) == 1 and len(skipped) == 3 and "longer than 40 bytes" in skipped[-1]


def test_samples_audit_detects_length_padding():
    rows = [{"prompt": "q", "completion": "answer " * (i + 1)} for i in range(10)]
    constant = build_reward({"terms": [{"type": "constant", "name": "c", "params": {"value": 0.0}}]})
    checks, _ = audit_samples(constant, rows, latency_samples=3)
    assert {c.name: c.status for c in checks}["length"] == "green"
    checks, _ = audit_samples(build_reward(_LONGER_IS_BETTER), rows, latency_samples=3)
    length = {c.name: c for c in checks}["length"]
    assert length.status == "red" and length.details["padding_rise_rate"] >= 0.5 and length.details["spearman"] > 0.6


@pytest.mark.parametrize("args, field", [
    (["--rm", "x.yaml"], "--rm/--pairs"),
    (["--env", "CartPole-v1"], "config"),
    (["cfg.yaml", "--env", "CartPole-v1", "--samples", "s.jsonl"], "audit"),
    (["--example", "env", "--wrappers", "nope"], "--wrappers"),
    (["--example", "env", "--steps", "0"], "--steps"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, args, field):
    assert main(["audit", *args, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and field in err


def test_report_embeds_one_plot_per_check_that_has_the_data(tmp_path):
    from rewardkit.audit.checks import Check
    from rewardkit.runner.audit.report import write_audit_report

    checks = [Check("terms", "dominance", "green", 0.5, "", {"scale": {"a": {"share": 0.5}, "b": {"share": 0.5}}}),
              Check("budget", "latency", "green", 0.01, "", {"times": [0.01, 0.02]}),
              Check("rm", "calibration", "green", 0.0, "", {"bin_confidence": [0.2, 0.8], "bin_frequency": [0.3, 0.7]}),
              Check("rm", "overoptimization", "skipped", float("nan"), "no gold")]
    page = write_audit_report("rm", checks, tmp_path).read_text()
    assert page.count("<img") == 3
    assert all(f"<h3>{n}</h3>" in page for n in ("terms", "latency", "calibration"))
    assert "<h3>overoptimization</h3>" not in page
