import os

import pytest

from rewardkit.core.errors import ConfigError
from rewardkit.verify.code.sandbox import SandboxLimits, SandboxUnavailable, run_python, sandbox_capabilities


def test_runs_a_program_with_stdin_argv_and_files():
    r = run_python("import sys\nprint(int(input()) * 2, sys.argv[1:], open('data.txt').read())",
                   stdin="21\n", files={"data.txt": "hi"}, argv=["a"])
    assert r.returncode == 0 and r.stdout.strip() == "42 ['a'] hi"
    assert not r.timed_out and r.error is None


def test_isolation_layers_are_active_here():
    caps = sandbox_capabilities()
    r = run_python("pass")
    assert r.isolation["rlimits"] and r.isolation["audit_guard"]
    assert r.isolation["network_isolated"] == (caps["net_namespace"] or caps.get("net_namespace_user", False))
    assert r.isolation["privileges_dropped"] == caps["drop_privileges"]
    if os.geteuid() == 0:  # CI runs as root on this machine kind: all layers must be up
        for key in ("network_isolated", "pid_namespace", "privileges_dropped", "rlimits", "audit_guard",
                    "filesystem_isolated"):
            assert r.isolation[key], r.isolation
        r = run_python("pass", via="exec")
        assert all(r.isolation.values()), r.isolation


def test_environment_is_empty_and_interpreter_isolated():
    r = run_python("import os, sys\nprint(dict(os.environ))\nprint(sys.flags.isolated, sys.flags.no_site)")
    lines = r.stdout.split("\n")
    assert lines[0] in ("{}", "{'LC_CTYPE': 'C.UTF-8'}")
    assert lines[1] == "1 1"


def test_runtime_error_and_syntax_error_are_reported():
    r = run_python("raise ValueError('boom')")
    assert r.returncode == 1 and "ValueError: boom" in r.stderr
    r = run_python("def (")
    assert r.returncode == 1 and "SyntaxError" in r.stderr


def test_temporary_directory_is_removed():
    r = run_python("import os\nprint(os.getcwd())\nopen('f.txt', 'w').write('x')", via="exec")
    assert r.returncode == 0
    assert not os.path.exists(r.stdout.strip())


def test_cpu_limit_kills_busy_loop():
    r = run_python("while True: pass", limits=SandboxLimits(cpu_seconds=1, wall_seconds=30))
    assert r.returncode is not None and r.returncode < 0
    assert r.killed_by in ("SIGXCPU", "SIGKILL") and not r.timed_out  # the CPU limit, not the wall, stopped it


def test_one_shot_server_and_exec_paths_agree():
    src = "import sys\nprint(sys.stdin.read().upper(), sys.argv[1:])\nraise SystemExit(3)"
    a = run_python(src, stdin="hi", argv=["x"], via="server")
    b = run_python(src, stdin="hi", argv=["x"], via="exec")
    assert (a.stdout, a.returncode) == (b.stdout, b.returncode) == ("HI ['x']\n", 3)
    with pytest.raises(ConfigError, match="via"):
        run_python("pass", via="docker")


def test_bad_limits_name_the_field():
    with pytest.raises(ConfigError, match="memory_mb"):
        SandboxLimits(memory_mb=0)
    with pytest.raises(ConfigError, match="network"):
        SandboxLimits(network="maybe")


def test_required_network_isolation_raises_when_unavailable(monkeypatch):
    import rewardkit.verify.code.sandbox as sb

    monkeypatch.setattr(sb, "sandbox_capabilities", lambda python=None: {
        "net_namespace": False, "pid_namespace": False, "prlimit": True, "drop_privileges": False})
    with pytest.raises(SandboxUnavailable):
        sb.run_python("pass", limits=SandboxLimits(network="isolate"))
    r = sb.run_python("print(1)", limits=SandboxLimits(network="auto"))
    assert r.stdout.strip() == "1" and r.isolation["network_isolated"] is False
