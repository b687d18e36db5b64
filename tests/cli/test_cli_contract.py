"""The CLI contract: every user error is one stderr line naming the field or path, exit code 2, no traceback.

Each case runs the real ``rewardkit`` command in a subprocess over a bad input: files
(alias bomb, deep nesting, bad encodings, a directory, a missing or unreadable file),
values (huge or out-of-range integers, ``--seeds 1000000000``, bad CLI values), and the
environment (a full disk, a port in use, a corrupt results database).
"""

from __future__ import annotations

import copy
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

SRC = str(Path(__file__).resolve().parents[2] / "src")

#: a 7-state chain solved by tabular Q-learning in a fraction of a second
CHAIN = {
    "name": "chain",
    "env": {"id": "rewardkit/Chain-v0", "kwargs": {"n1": 3, "n2": 3, "max_steps": 20}},
    "learner": {"type": "q_learning", "params": {"alpha": 0.5, "epsilon": 0.2, "tie_break": "random", "gamma": 0.9}},
    "budget": {"episodes": 20},
    "eval": {"every": 10, "episodes": 2},
    "seeds": 1,
    "variants": {"env": {"reward": {"terms": [{"type": "env_reward", "name": "task"}]}}},
}
REWARD = "reward:\n  terms:\n    - {type: constant, name: c, params: {value: 1.0}}\n"

# 342 bytes: nine anchors of nine aliases each, 9**9 strings when expanded
BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{n}: &{n} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True))

# runs the CLI with os.write failing with ENOSPC for files under --out (the results database is
# written by SQLite's C code and is unaffected: the disk fills while the report is written)
_FULL_DISK = """
import errno, os, runpy, sys
out = os.path.realpath(sys.argv[1]); real_write = os.write
def write(fd, data):
    try:
        target = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        target = ""
    if target.startswith(out + os.sep) and not target.endswith(".rewardkit.lock"):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return real_write(fd, data)
os.write = write
sys.argv = ["rewardkit", *sys.argv[2:]]
runpy.run_module("rewardkit.cli.main", run_name="__main__")
"""


def _spec(path: Path, **changes) -> Path:
    s = copy.deepcopy(CHAIN)
    for dotted, value in changes.items():
        d = s
        keys = dotted.split("__")
        for k in keys[:-1]:
            d = d[k]
        d[keys[-1]] = value
    path.write_text(yaml.safe_dump(s, sort_keys=False), encoding="utf-8")
    return path


def _cli(*args: str, prefix: tuple[str, ...] = (), stdout=subprocess.PIPE, timeout: float = 120, cwd=None):
    env = dict(os.environ, PYTHONPATH=SRC, OMP_NUM_THREADS="1")
    env.pop("REWARDKIT_DEBUG", None)
    cmd = [*prefix, sys.executable, "-m", "rewardkit.cli.main", *args] if args and args[0] != "-c" else \
        [*prefix, sys.executable, *args]
    return subprocess.run(cmd, stdout=stdout, stderr=subprocess.PIPE, text=True, env=env, timeout=timeout, cwd=cwd)


def _assert_one_line(p: subprocess.CompletedProcess, *needles: str) -> str:
    assert "Traceback" not in p.stderr, p.stderr
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("error: "), lines[0]
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]


# ------------------------------------------------------------------ files given to `check` and `run`

def _bad_files(d: Path) -> list[tuple[str, Path, str]]:
    """(case id, file, text the error line must contain)."""
    cases = []

    def add(name: str, filename: str, data: bytes | str, needle: str) -> None:
        p = d / filename
        p.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        cases.append((name, p, needle))

    add("alias-bomb", "bomb.yaml", BOMB + "reward: {terms: [{type: constant, params: {value: *i}}]}\n",
        "aliases expand to more than")
    add("deep-yaml", "deep.yaml", "reward: " + "[" * 5000 + "]" * 5000 + "\n", "nesting deeper than")
    add("deep-json", "deep.json", '{"reward": ' + "[" * 100_000 + "]" * 100_000 + "}", "nesting deeper than")
    add("deep-toml", "deep.toml", "reward = " + "[" * 100_000 + "]" * 100_000 + "\n", "nesting deeper than")
    add("recursive-alias", "rec.yaml", "reward: &r {terms: [*r]}\n", "recursive alias *r")
    add("too-big", "big.yaml", "# " + "x" * (5 * 1024 * 1024) + "\n", "larger than the limit")
    add("bad-utf8", "latin1.yaml", "reward:\n  name: caf\xe9\n".encode("latin-1"), "not valid UTF-8")
    add("bad-utf16", "u16.yaml", b"\xff\xfe" + "reward: {}".encode("utf-16-le") + b"\x00", "not valid UTF-16")
    add("utf16-no-bom", "u16nobom.yaml", REWARD.encode("utf-16-le"), "NUL byte at offset 1")
    add("huge-weight", "hugew.yaml", REWARD.replace("value: 1.0}", "value: 1.0}, weight: " + "9" * 400), "weight")
    add("int-over-4300-digits", "hugei.yaml", REWARD.replace("1.0", "9" * 5000), "cannot parse")
    add("params-null", "pnull.yaml", "reward:\n  terms:\n    - {type: constant, params: null}\n",
        "reward.terms[0].params.value: missing required parameter")
    add("not-a-mapping", "list.yaml", "- 1\n- 2\n", "top level is a list")
    add("unknown-extension", "r.txt", REWARD, "unknown extension '.txt'")
    (d / "folder.yaml").mkdir()
    cases.append(("directory", d / "folder.yaml", "is a directory"))
    cases.append(("missing", d / "nope.yaml", "file not found"))
    return cases


#: `serve` reads its config with the same loader: a sample of the cases keeps the suite fast
_SERVE_CASES = {"alias-bomb", "bad-utf8", "directory", "missing", "params-null"}
#: cases about a reward section's content (`run` takes an experiment; its values are tested below)
_REWARD_CASES = {"huge-weight", "params-null"}


@pytest.mark.parametrize("command", ["check", "run", "serve"])
def test_bad_files_are_one_line_exit_2(tmp_path, command):
    cases = _bad_files(tmp_path)
    assert len(cases) == 16
    for name, path, needle in cases:
        if (command == "serve" and name not in _SERVE_CASES) or (command == "run" and name in _REWARD_CASES):
            continue
        args = ["serve", "--config", str(path), "--port", "0"] if command == "serve" else [command, str(path)]
        if command == "run":
            args += ["--out", str(tmp_path / "out"), "--no-progress"]
        p = _cli(*args, timeout=60)
        line = _assert_one_line(p, needle)
        if name not in ("huge-weight", "params-null"):
            assert str(path) in line, (name, line)  # file errors name the file
        assert not (tmp_path / "out").exists(), name  # nothing ran


def test_unreadable_file(tmp_path):
    """Permission denied: the CLI runs without the capabilities that let root read a mode-000 file."""
    p = tmp_path / "secret.yaml"
    p.write_text(REWARD, encoding="utf-8")
    p.chmod(0)
    prefix: tuple[str, ...] = ()
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: cannot make a file unreadable")
        caps = "-dac_override,-dac_read_search"
        prefix = ("setpriv", f"--inh-caps={caps}", f"--bounding-set={caps}")
    _assert_one_line(_cli("check", str(p), prefix=prefix), str(p), "permission denied")


# ------------------------------------------------------------------ values in files and on the command line

def test_bad_values_are_one_line_naming_the_field(tmp_path):
    ok = _spec(tmp_path / "ok.yaml")
    out = ["--out", str(tmp_path / "out"), "--no-progress"]
    cases = [
        (["run", str(ok), "--seeds", "1000000000", "--check"], "--seeds: 1000000000 seeds; expected at most 10000"),
        (["run", str(ok), "--seeds", "0," + "9" * 30, "--check"],
         "--seeds[1]: got 999999999999999999999999999999; expected an integer in [0, 4294967295]"),
        (["run", str(ok), "--seeds", "9" * 5000, "--check"], "--seeds: got"),
        (["run", str(ok), "--parallel", "x", *out], "argument --parallel: invalid int value: 'x'"),
        (["run", str(ok), "--parallel", "0", *out], "--parallel: got 0"),
        (["run", str(ok), "--parallel", "100000", *out], "--parallel: got 100000"),
        (["run", str(_spec(tmp_path / "s.yaml", seeds=10**30)), *out],
         "seeds: 1" + "0" * 30 + " seeds; expected at most 10000 seeds"),
        (["run", str(_spec(tmp_path / "ep.yaml", eval__episodes=10**30)), *out], "eval.episodes: got 1" + "0" * 30),
        (["run", str(_spec(tmp_path / "b.yaml", budget__episodes=2**70)), *out], "budget.episodes: got"),
        (["run", str(_spec(tmp_path / "a.yaml", learner__params__alpha=float("inf"))), *out],
         "learner.params.alpha: got inf; expected a finite number"),
        (["run", str(_spec(tmp_path / "k.yaml", env__kwargs__n1=10**40)), *out], "env.kwargs.n1: integer"),
        (["run", str(_spec(tmp_path / "n.yaml", name="..")), "--no-progress"], "name: got '..'"),
        (["run", str(_spec(tmp_path / "h.yaml", name=".hidden")), "--no-progress"], "name: got '.hidden'"),
        (["run", str(_spec(tmp_path / "v.yaml", variants={"../x": CHAIN["variants"]["env"]})), *out],
         "variants.../x: bad variant name"),
        (["terms", "--kind", "nope"], "argument --kind: invalid choice: 'nope'"),
        (["nope"], "argument COMMAND: invalid choice: 'nope'"),
        (["check"], "the following arguments are required: config"),
        (["serve", "--config", str(ok), "--port", "99999"], "--port: got 99999"),
        (["serve", "--config", str(ok), "--max-body-mb", "nan"], "--max-body-mb: got nan"),
        (["serve", "--config", str(ok), "--port", "abc"], "argument --port: invalid int value: 'abc'"),
    ]
    cwd = tmp_path / "cwd"  # `name: ..` would make the default output folder runs/.. = this folder
    cwd.mkdir()
    for args, needle in cases:
        _assert_one_line(_cli(*args, timeout=60, cwd=cwd), needle)
    assert not (tmp_path / "out").exists()
    assert list(cwd.iterdir()) == []


def test_serve_port_in_use(tmp_path):
    cfg = tmp_path / "r.yaml"
    cfg.write_text(REWARD, encoding="utf-8")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        _assert_one_line(_cli("serve", "--config", str(cfg), "--port", str(port), timeout=60),
                         f"--port: cannot listen on 127.0.0.1:{port}")


# ------------------------------------------------------------------ the environment: disk, output folder, database

def test_full_disk_on_stdout():
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    with open("/dev/full", "w") as full:
        p = _cli("terms", stdout=full)
    _assert_one_line(p, "No space left on device")


def test_full_disk_while_writing_the_report(tmp_path):
    spec = _spec(tmp_path / "ok.yaml")
    out = tmp_path / "out"
    p = _cli("-c", _FULL_DISK, str(out), "run", str(spec), "--out", str(out), "--no-progress", "--no-tensorboard")
    line = _assert_one_line(p, "No space left on device")
    assert str(out) in line
    written = [f for f in out.rglob("*") if f.is_file()]
    assert not [f for f in written if f.name.endswith(".tmp")], written  # temporary files removed
    assert not [f for f in written if f.stat().st_size == 0 and f.name != ".rewardkit.lock"], written
    assert not (out / "summary.md").exists()
    # the results survived: a plain rerun skips the completed run and writes the report
    p = _cli("run", str(spec), "--out", str(out), "--no-progress", "--no-tensorboard")
    assert p.returncode == 0, p.stderr
    assert "0 completed, 1 already done" in p.stdout
    assert (out / "summary.md").stat().st_size > 0


def test_out_is_a_file_and_corrupt_database(tmp_path):
    spec = _spec(tmp_path / "ok.yaml")
    (tmp_path / "afile").write_text("x")
    _assert_one_line(_cli("run", str(spec), "--out", str(tmp_path / "afile"), "--no-progress"), "afile")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "results.sqlite").write_bytes(b"this is not a database" * 100)
    _assert_one_line(_cli("run", str(spec), "--out", str(bad), "--no-progress"), "results database")


def test_debug_env_shows_the_traceback(tmp_path):
    p = subprocess.run([sys.executable, "-m", "rewardkit.cli.main", "check", str(tmp_path / "nope.yaml")],
                       capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=SRC, REWARDKIT_DEBUG="1"),
                       timeout=60)
    assert p.returncode == 2 and "Traceback" in p.stderr
    assert p.stderr.strip().splitlines()[-1].startswith("error: ")

