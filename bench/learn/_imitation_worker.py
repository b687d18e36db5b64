"""Runs INSIDE the scratch venv that has PyPI `imitation` (see bt_vs_imitation.py).

usage: python _imitation_worker.py DATA.npz EPOCHS SEED  -> one JSON line on stdout.
       python _imitation_worker.py DATA.npz active SEED OUT.npz  -> time ActiveSelectionFragmenter
       (3-member RewardEnsemble, uncertainty_on="probability", 1000 candidates -> 100 pairs) and
       write the members' weights to OUT.npz so rewardkit can score with identical networks.
Trains imitation's BasicRewardNet (32, 32) with PreferenceModel + CrossEntropyRewardLoss
+ BasicRewardTrainer (AdamW lr 1e-3, batch 32) on the fragment pairs in DATA.npz, and
scores held-out pairs and transitions.  Only training is timed, after a warm-up run on a throw-away net.
"""

import json
import sys
import time
import warnings

warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import torch as th  # noqa: E402
import gymnasium as gym  # noqa: E402

from imitation.algorithms import preference_comparisons as pc  # noqa: E402
from imitation.data.types import TrajectoryWithRew  # noqa: E402
from imitation.rewards.reward_nets import BasicRewardNet, RewardEnsemble  # noqa: E402
from imitation.util import logger as imit_logger  # noqa: E402

th.set_num_threads(1)
path, mode, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
z = np.load(path)
th.manual_seed(seed)
rng = np.random.default_rng(seed)


def active_mode(out_path):
    trajs = [TrajectoryWithRew(obs=o.astype(np.float32), acts=a.astype(np.float32), infos=None, terminal=True,
                               rews=r.astype(np.float32))
             for o, a, r in zip(z["traj_obs"], z["traj_acts"], z["traj_rews"], strict=False)]
    d_obs, d_act = z["traj_obs"].shape[-1], z["traj_acts"].shape[-1]
    obs_space = gym.spaces.Box(-np.inf, np.inf, (d_obs,), np.float32)
    act_space = gym.spaces.Box(-1.0, 1.0, (d_act,), np.float32)
    log = imit_logger.configure(format_strs=[])
    members = [BasicRewardNet(obs_space, act_space, hid_sizes=(32, 32)) for _ in range(3)]
    ens = RewardEnsemble(obs_space, act_space, members)
    frag = pc.ActiveSelectionFragmenter(pc.PreferenceModel(ens), pc.RandomFragmenter(rng=rng, warning_threshold=0,
                                        custom_logger=log), fragment_sample_factor=10,
                                        uncertainty_on="probability", custom_logger=log)
    frag(trajs, 10, 10)  # warm-up
    w0, c0 = time.perf_counter(), time.process_time()
    chosen = frag(trajs, 10, 100)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    arrays = {}
    for i, m in enumerate(members):
        lin = [x for x in m.mlp.modules() if isinstance(x, th.nn.Linear)]
        arrays[f"m{i}_n_layers"] = np.array(len(lin))
        arrays[f"m{i}_activation"] = np.array("relu")
        for j, layer in enumerate(lin):
            arrays[f"m{i}_W{j}"] = layer.weight.detach().numpy().T.astype(np.float64)
            arrays[f"m{i}_b{j}"] = layer.bias.detach().numpy().astype(np.float64)
    probe_o, probe_a = z["traj_obs"][0, :5].astype(np.float32), z["traj_acts"][0, :5].astype(np.float32)
    probe = members[0].predict(probe_o, probe_a, probe_o, np.zeros(5, bool))
    np.savez(out_path, kind=np.array("ensemble"), n_members=np.array(3), probe=probe, **arrays)
    print(json.dumps({"wall": wall, "cpu": cpu, "selected": len(chosen)}))


if mode == "active":
    active_mode(sys.argv[4])
    sys.exit(0)
epochs = int(mode)


def frags(obs, acts, rews):
    return [TrajectoryWithRew(obs=o.astype(np.float32), acts=a.astype(np.float32), infos=None, terminal=False,
                              rews=r.astype(np.float32)) for o, a, r in zip(obs, acts, rews, strict=False)]


f1 = frags(z["obs1"], z["acts1"], z["rews1"])
f2 = frags(z["obs2"], z["acts2"], z["rews2"])
obs_dim, act_dim = z["obs1"].shape[-1], z["acts1"].shape[-1]
obs_space = gym.spaces.Box(-np.inf, np.inf, (obs_dim,), np.float32)
act_space = gym.spaces.Box(-1.0, 1.0, (act_dim,), np.float32)
log = imit_logger.configure(format_strs=[])
net = BasicRewardNet(obs_space, act_space, use_state=True, use_action=True, use_next_state=False, use_done=False,
                     hid_sizes=(32, 32))
model = pc.PreferenceModel(net)
trainer = pc.BasicRewardTrainer(model, pc.CrossEntropyRewardLoss(), rng=rng, batch_size=32, epochs=epochs,
                                lr=1e-3, custom_logger=log)
data = pc.PreferenceDataset()
data.push(list(zip(f1, f2, strict=False)), z["labels"].astype(np.float32))
# warm-up (torch's one-time lazy initialisation) on a throw-away net, as on the rewardkit side
_wnet = BasicRewardNet(obs_space, act_space, hid_sizes=(32, 32))
_wdata = pc.PreferenceDataset()
_wdata.push(list(zip(f1[:64], f2[:64], strict=False)), z["labels"][:64].astype(np.float32))
pc.BasicRewardTrainer(pc.PreferenceModel(_wnet), pc.CrossEntropyRewardLoss(), rng=np.random.default_rng(0),
                      epochs=1, custom_logger=log).train(_wdata)
w0, c0 = time.perf_counter(), time.process_time()
trainer.train(data)
wall, cpu = time.perf_counter() - w0, time.process_time() - c0


def returns(obs, acts):
    n, T, d = acts.shape[0], acts.shape[1], obs.shape[-1]
    s = obs[:, :-1].reshape(-1, d)
    r = net.predict(s, acts.reshape(n * T, -1), obs[:, 1:].reshape(-1, d), np.zeros(n * T, bool))
    return r.reshape(n, T).sum(1), r


ra, r_steps = returns(z["test_obs1"], z["test_acts1"])
rb, _ = returns(z["test_obs2"], z["test_acts2"])
true = z["test_rews1"].sum(1) - z["test_rews2"].sum(1)
acc = float(np.mean(np.sign(ra - rb) == np.sign(true)))
corr = float(np.corrcoef(r_steps, z["test_rews1"].reshape(-1))[0, 1])
print(json.dumps({"wall": wall, "cpu": cpu, "acc": acc, "corr": corr}))
