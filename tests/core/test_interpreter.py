"""core.interpreter: the one way rewardkit starts worker interpreters (math pool, reward server)."""

from __future__ import annotations

import time

import pytest

from rewardkit.core.interpreter import ChildInterpreter, WorkerStartError, descendants


def test_ready_echo_and_stop():
    w = ChildInterpreter("rewardkit.core.interpreter:echo_entry", ["hi"])
    assert w.wait_ready(60) == "hi" and w.wait_ready(0) == "hi"
    w.conn.send({"a": 1})
    assert w.conn.recv() == {"a": 1}
    w.stop()
    assert not w.is_alive()


def test_a_child_that_dies_is_a_start_error():
    w = ChildInterpreter("os:_exit", ["3"])  # os._exit(conn, "3") raises TypeError: the child dies
    with pytest.raises(WorkerStartError, match=r"died while starting|did not start"):
        w.wait_ready(60)
    assert not w.is_alive()


GRANDPARENT = """
import subprocess


def entry(conn):
    child = subprocess.Popen(["sleep", "60"], start_new_session=True)  # its own session, like a sympy pool
    conn.send(("ready", child.pid))
    conn.recv()
"""


def _gone(pid, wait=5.0):
    end = time.monotonic() + wait
    while time.monotonic() < end:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                if b") Z " in f.read():  # a zombie waiting to be reaped is dead too
                    return True
        except OSError:
            return True
        time.sleep(0.05)
    return False


def test_kill_takes_the_grandchildren_in_other_sessions_too(tmp_path, monkeypatch):
    (tmp_path / "rk_grandparent.py").write_text(GRANDPARENT, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    w = ChildInterpreter("rk_grandparent:entry")
    grandchild = w.wait_ready(60)
    assert grandchild in descendants(w.proc.pid)
    w.kill()
    assert not w.is_alive()
    assert _gone(grandchild)


def test_bad_entry_is_rejected():
    with pytest.raises(ValueError, match=r"package\.module:function"):
        ChildInterpreter("no_colon")
