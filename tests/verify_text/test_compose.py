"""The verify terms composed from a YAML config: format as a gate, tool-call score, DAPO penalty."""

from __future__ import annotations

import yaml

import rewardkit.verify.format  # registers the terms
import rewardkit.verify.length
import rewardkit.verify.toolcall  # noqa: F401
from rewardkit.core import SampleBatch, build_reward

CONFIG = """
terms:
  - type: think_answer_format
    name: format
    weight: 0.5
    params: {answer_tag: tool_call}
  - type: tool_call_schema
    name: tool
    gate: {"on": format, threshold: 1.0}    # quote "on": YAML 1.1 reads a bare on as True
  - type: overlong_penalty
    params: {max_length: 4096, buffer: 1024}
"""


def test_yaml_composition_gates_tool_reward_on_format():
    reward = build_reward(yaml.safe_load(CONFIG))
    gold = [{"name": "f", "arguments": {"x": 1}}]
    good = '<think>call f</think><tool_call>{"name": "f", "arguments": {"x": 1}}</tool_call>'
    unformatted = '{"name": "f", "arguments": {"x": 1}}'  # right call, no tags: gated to 0
    long_good = good
    res = reward.evaluate(SampleBatch(["p"] * 3, [good, unformatted, long_good],
                                      {"gold_calls": [gold] * 3, "num_tokens": [100, 100, 5000]}))
    assert res.terms["format"].tolist() == [1.0, 0.0, 1.0]
    assert res.terms["tool"].tolist() == [1.0, 0.0, 1.0]
    assert res.terms["overlong_penalty"].tolist() == [0.0, 0.0, -1.0]
    assert res.total.tolist() == [1.5, 0.0, 0.5]
