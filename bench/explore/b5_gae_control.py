"""B5 – does the bonus reach the advantages?  rewardkit's SB3 callback vs RLLTE 1.0.1's on-policy agent.

One command (needs the scratch venv of b1_modules.py for the RLLTE half)::

    python bench/explore/b5_gae_control.py

Both agents train PPO on the same sparse corridor (tests/explore_integration/xi_corridor.py,
length 8, 12-step episodes, 4 envs) with an intrinsic reward module, and at the moment
the policy update reads the buffer we recompute GAE from scratch twice – on the
extrinsic rewards only and on extrinsic + intrinsic – and compare with the
advantages the update actually uses:

* rewardkit (:class:`~rewardkit.explore.sb3.IntrinsicRewardCallback`, SB3 PPO, count bonus):
  advantages must equal GAE(ext + int);
* RLLTE 1.0.1 (``rllte.agent.PPO`` + ``RE3``): ``OnPolicyAgent.train`` calls
  ``storage.compute_returns_and_advantages`` *before* ``storage.rewards += intrinsic``
  (research notes §1.4-1), so its advantages equal GAE(ext only) – the negative control.

``rllte.agent`` imports ``torchvision`` for one image augmentation that PPO never uses; no
torchvision wheel matches torch 2.13 here, so the worker registers a placeholder module
for that import only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
VENV_PY = os.path.join(ROOT, "bench", "_scratch", "rllte_venv", "bin", "python")
sys.path.insert(0, os.path.join(ROOT, "tests", "explore_integration"))


def sb3_gae(rewards, values, starts, last_values, last_dones, gamma, lam):
    """GAE(rewards) in SB3's done convention through :func:`rewardkit.core.gae`.

    SB3 marks an episode end at step ``t`` by ``episode_starts[t+1]`` (``last_dones`` after the
    rollout) and folds the truncation bootstrap into the reward, so ``d_t = gamma * (1 - done_t)``.
    """
    from rewardkit.core import bootstrap_values, gae

    done = np.concatenate([starts[1:], np.asarray(last_dones, dtype=np.float64)[None]], axis=0) > 0.5
    return gae(rewards, values, bootstrap_values(values, last_values), gamma * (1.0 - done), lam,
               episode_ends=done)


def rewardkit_side() -> dict:
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    from rewardkit.explore.counts import CountBonus
    from rewardkit.explore.sb3 import IntrinsicRewardCallback
    from xi_corridor import Corridor

    torch.set_num_threads(1)
    rec = {}

    class Probe(IntrinsicRewardCallback):
        def _on_rollout_end(self):
            super()._on_rollout_end()
            rb = self.model.rollout_buffer
            f = lambda x: np.asarray(x, dtype=np.float64)  # noqa: E731
            lv = self.locals["values"].detach().numpy().ravel().astype(np.float64)
            ld = np.asarray(self.locals["dones"], dtype=np.float64)
            ext = f(self.last_rollout["extrinsic"])
            tot = f(rb.rewards)
            a_ext = sb3_gae(ext, f(rb.values), f(rb.episode_starts), lv, ld, self.model.gamma, self.model.gae_lambda)
            a_tot = sb3_gae(tot, f(rb.values), f(rb.episode_starts), lv, ld, self.model.gamma, self.model.gae_lambda)
            rec["vs_ext"] = max(rec.get("vs_ext", 0.0), float(np.abs(f(rb.advantages) - a_ext).max()))
            rec["vs_total"] = max(rec.get("vs_total", 0.0), float(np.abs(f(rb.advantages) - a_tot).max()))
            rec["intrinsic_mean"] = float(np.abs(tot - ext).mean())

    venv = make_vec_env(lambda: Corridor(8, 12), n_envs=4, seed=0)
    PPO("MlpPolicy", venv, n_steps=64, batch_size=64, n_epochs=1, seed=0).learn(
        4 * 64 * 4, callback=Probe(CountBonus(mode="product", key_fn="obs_hash"), coef=0.5))
    return rec


def rllte_worker() -> None:
    import warnings
    warnings.filterwarnings("ignore")
    import torch as th
    th.set_num_threads(1)
    import types
    if "torchvision" not in sys.modules:
        try:
            import torchvision  # noqa: F401
        except Exception:
            # rllte.agent imports every augmentation, one of which needs torchvision.transforms.ColorJitter;
            # no torchvision wheel matches torch 2.13 here and PPO never uses augmentations, so a
            # placeholder module satisfies that import only (the PPO/GAE code under test is untouched).
            tv = types.ModuleType("torchvision")
            tv.transforms = types.ModuleType("torchvision.transforms")  # type: ignore[attr-defined]
            tv.transforms.ColorJitter = object  # type: ignore[attr-defined]
            sys.modules["torchvision"], sys.modules["torchvision.transforms"] = tv, tv.transforms
    from rllte.agent import PPO
    from rllte.env.utils import make_rllte_env
    from rllte.xplore.reward import RE3
    from xi_corridor import Corridor

    import gymnasium as gym

    class TorchVecEnv:
        """Gymnasium-1.x stand-in for rllte's ``Gymnasium2Torch`` (a ``gym.Wrapper``, which gymnasium 1.x
        no longer allows around a ``VectorEnv``): same interface – single-env spaces, torch tensors out,
        terminated/truncated as float tensors, episode statistics in ``infos["episode"]``."""

        def __init__(self, venv):
            self.env = gym.wrappers.vector.RecordEpisodeStatistics(venv)
            self.num_envs = venv.num_envs
            self.observation_space = venv.single_observation_space
            self.action_space = venv.single_action_space

        def reset(self, seed=None, options=None):
            obs, info = self.env.reset(seed=seed, options=options)
            return th.as_tensor(obs), info

        def step(self, actions):
            o, r, te, tr, info = self.env.step(actions.cpu().numpy())
            f = lambda x: th.as_tensor(np.asarray(x, dtype=np.float32))  # noqa: E731
            return th.as_tensor(o), f(r), f(te), f(tr), info

        def close(self):
            self.env.close()

    del make_rllte_env  # incompatible with gymnasium 1.x (see TorchVecEnv)
    raw = gym.vector.SyncVectorEnv([lambda: Corridor(8, 12)] * 4)
    env = TorchVecEnv(gym.vector.SyncVectorEnv([lambda: Corridor(8, 12)] * 4))
    agent = PPO(env=env, device="cpu", num_steps=64, batch_size=64, n_epochs=1, seed=0)
    irs = RE3(raw, device="cpu", obs_norm_type="none")
    agent.set(reward=irs)
    rec: dict = {"vs_ext": 0.0, "vs_total": 0.0}
    orig_compute = irs.compute
    last_int = {}

    def compute(samples, sync=True):
        r = orig_compute(samples, sync)
        last_int["r"] = r.detach().clone().numpy().astype(np.float64)
        return r
    irs.compute = compute  # type: ignore[method-assign]
    orig_update = agent.update

    def gae_rllte(st, rewards):
        # RLLTE's own GAE formula (vanilla_rollout_storage.py), from scratch in numpy
        T = rewards.shape[0]
        values = st.values.numpy().astype(np.float64)
        term = st.terminateds.numpy().astype(np.float64)
        trunc = st.truncateds.numpy().astype(np.float64)
        with th.no_grad():
            last_v = agent.policy.get_value(st.observations[-1]).numpy()[:, 0].astype(np.float64)
        adv, g = np.zeros_like(rewards), 0.0
        for t in reversed(range(T)):
            nv = last_v if t == T - 1 else values[t + 1]
            nt = 1.0 - term[t + 1]
            g = (rewards[t] + st.discount * nv * nt - values[t]) + st.discount * st.gae_lambda * nt * g
            g = g * (1.0 - trunc[t + 1])
            adv[t] = g
        return (adv - adv.mean()) / (adv.std(ddof=1) + 1e-5)

    def update():
        st = agent.storage
        total = st.rewards.numpy().astype(np.float64)
        ext = total - last_int["r"]
        used = st.advantages.numpy().astype(np.float64)
        rec["vs_ext"] = max(rec["vs_ext"], float(np.abs(used - gae_rllte(st, ext)).max()))
        rec["vs_total"] = max(rec["vs_total"], float(np.abs(used - gae_rllte(st, total)).max()))
        rec["intrinsic_mean"] = float(np.abs(last_int["r"]).mean())
        return orig_update()
    agent.update = update  # type: ignore[method-assign]
    agent.train(num_train_steps=4 * 64 * 4, log_interval=1000, eval_interval=10**9, save_interval=10**9)
    print("RESULT " + json.dumps(rec))


def main() -> None:
    rk = rewardkit_side()
    if os.path.exists(VENV_PY):
        env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")
        p = subprocess.run([VENV_PY, __file__, "--rllte-worker"], capture_output=True, text=True, env=env,
                           timeout=600, cwd=os.path.join(ROOT, "bench", "_scratch"))
        line = next((ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")), None)
        rl = json.loads(line[7:]) if line else {"error": (p.stderr.strip().splitlines() or ["?"])[-1][:150]}
    else:
        rl = {"error": "no scratch venv"}
    print("# B5 does the bonus reach the advantages the policy update uses?\n")
    print("| agent | max abs(adv - GAE(ext)) | max abs(adv - GAE(ext+int)) | mean abs intrinsic | bonus reaches advantages |")
    print("|---|---|---|---|---|")
    for name, r in (("rewardkit IntrinsicRewardCallback + SB3 PPO", rk), ("RLLTE 1.0.1 rllte.agent.PPO + RE3", rl)):
        if "error" in r:
            print(f"| {name} | error: {r['error']} | | | |")
            continue
        ok = r["vs_total"] < 1e-5 and r["vs_ext"] > 1e-3
        print(f"| {name} | {r['vs_ext']:.2e} | {r['vs_total']:.2e} | {r['intrinsic_mean']:.3f} | {'yes' if ok else 'NO'} |")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--rllte-worker":
        rllte_worker()
    else:
        main()
