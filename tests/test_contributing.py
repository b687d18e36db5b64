"""Every ```python block of CONTRIBUTING.md runs: each in a fresh interpreter, in an empty folder.

A block is the documentation of how to add a term, a bonus, a verifier, a learner or an
environment; if the API it shows changes, this test fails and names the block's heading.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "CONTRIBUTING.md"
FENCE = re.compile(r"^```(\w*)\s*$")


def python_blocks(text: str) -> list[tuple[str, str]]:
    """``(heading, code)`` of every fenced ``python`` block, in page order; a block is under its last heading."""
    blocks: list[tuple[str, str]] = []
    heading, lang, lines = "(top)", None, []
    for line in text.splitlines():
        m = FENCE.match(line)
        if lang is None and m:
            lang, lines = m.group(1), []
        elif lang is not None and line.strip() == "```":
            if lang == "python":
                blocks.append((heading, "\n".join(lines) + "\n"))
            lang = None
        elif lang is not None:
            lines.append(line)
        elif line.startswith("#"):
            heading = line.lstrip("#").strip()
    assert lang is None, f"CONTRIBUTING.md: unclosed ``` block under {heading!r}"
    return blocks


BLOCKS = python_blocks(PAGE.read_text(encoding="utf-8"))


def test_page_has_an_example_for_each_thing_one_adds():
    headings = [h for h, _ in BLOCKS]
    for thing in ("reward term", "exploration bonus", "verifier", "learner", "environment"):
        assert f"Add a {thing}" in headings or f"Add an {thing}" in headings, f"no example for {thing!r}"


def test_block_parser_keeps_headings_and_skips_other_languages():
    text = "# A\n```bash\nls\n```\n## B\n```python\nx = 1\n```\n```\nplain\n```\n"
    assert python_blocks(text) == [("B", "x = 1\n")]


def run_block(heading: str, code: str, folder: Path, timeout: float = 120) -> str | None:
    """Run ``code`` in a fresh interpreter in ``folder`` (rewardkit's src on the path); ``None`` or the failure."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    script = folder / "block.py"
    script.write_text(code, encoding="utf-8")
    try:
        proc = subprocess.run([sys.executable, str(script)], cwd=folder, env=env, capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"CONTRIBUTING.md, section {heading!r}: still running after {timeout:g} s"
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        return f"CONTRIBUTING.md, section {heading!r} failed (exit {proc.returncode}):\n{tail}"
    return None


def test_a_failing_block_is_named_by_its_heading(tmp_path):
    msg = run_block("Add a widget", "import rewardkit\nassert 1 + 1 == 3, 'arithmetic'\n", tmp_path)
    assert msg is not None and msg.startswith("CONTRIBUTING.md, section 'Add a widget' failed (exit 1)")
    assert "AssertionError: arithmetic" in msg
    assert run_block("Add a widget", "import rewardkit.core\n", tmp_path) is None


@pytest.mark.parametrize("heading,code", BLOCKS, ids=[h for h, _ in BLOCKS])
def test_block_runs(tmp_path, heading, code):
    error = run_block(heading, code, tmp_path)
    if error is not None:
        pytest.fail(error)
