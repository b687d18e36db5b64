"""Every ```python, ```yaml and ```bash block of README.md and docs/*.md is executed or validated.

- ``python``: a page's blocks run in order in ONE fresh interpreter (blocks build on each other),
  in an empty temporary folder (with links to the repo's ``tests`` and ``bench``), with this
  checkout's ``src`` on ``PYTHONPATH``; a failure names the page and the block's line.  A block
  written as a doctest (``>>>``) is run by :mod:`doctest`, so its outputs are checked too.
- ``yaml``: parsed with the bounded loader; a reward config (``terms``, or a ``reward:`` with
  ``terms``) is built with :func:`rewardkit.core.build_reward`, an experiment (``variants``) is
  checked with :func:`rewardkit.runner.parse_spec`.  Other mappings only need to parse.
- ``bash``: each ``rewardkit ...`` command line is parsed by the real CLI parser (nothing runs),
  and each ``python path/to/script.py`` or ``python -m pytest path`` names a file that exists.

A block opts out only with an explicit marker on the line just before its fence::

    <!-- docs-test: skip <reason> -->

The reason is required; every skipped block is reported as a skipped test with its reason.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([\w+-]*)")
SKIP = re.compile(r"^\s*<!--\s*docs-test:\s*skip\b\s*(.*?)\s*-->\s*$")
LANGS = {"python", "yaml", "bash"}
PAGE_TIMEOUT = 240.0


class Block(NamedTuple):
    page: str  # path relative to the repo root
    line: int  # 1-based line of the first code line
    lang: str
    code: str
    skip: str | None  # the opt-out reason, or None


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def parse_blocks(text: str, page: str) -> list[Block]:
    """Every fenced block of ``text`` in page order (any language), with its opt-out marker if any."""
    lines = text.splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, lang = m.group(1), m.group(2), m.group(3).lower()
        marker = SKIP.match(lines[i - 1]) if i > 0 else None
        if marker is not None and not marker.group(1):
            raise AssertionError(f"{page}:{i}: docs-test skip marker without a reason")
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence[0] * len(fence)):
            j += 1
        assert j < len(lines), f"{page}:{i + 1}: unclosed {fence} block"
        body = [ln[len(indent):] if ln.startswith(indent) else ln.lstrip() for ln in lines[i + 1:j]]
        blocks.append(Block(page, i + 2, lang, "\n".join(body) + "\n", marker.group(1) if marker else None))
        i = j + 1
    return blocks


BLOCKS = [b for p in PAGES for b in parse_blocks(p.read_text(encoding="utf-8"), _name(p))]
CHECKED = [b for b in BLOCKS if b.lang in LANGS and b.skip is None]
SKIPPED = [b for b in BLOCKS if b.lang in LANGS and b.skip is not None]


def _pages(lang: str) -> list[str]:
    return sorted({b.page for b in CHECKED if b.lang == lang})


def _of(page: str, lang: str) -> list[Block]:
    return [b for b in CHECKED if b.page == page and b.lang == lang]


# ---------------------------------------------------------------- the parser itself


def test_parser_finds_languages_lines_and_markers():
    text = ("# T\n```python\nx = 1\n```\n<!-- docs-test: skip trains for minutes -->\n```bash\nrewardkit demo\n```\n"
            "- item\n  ```yaml\n  a: 1\n  ```\n```\nplain\n```\n")
    got = parse_blocks(text, "p.md")
    assert [(b.lang, b.line, b.code, b.skip) for b in got] == [
        ("python", 3, "x = 1\n", None),
        ("bash", 7, "rewardkit demo\n", "trains for minutes"),
        ("yaml", 11, "a: 1\n", None),
        ("", 14, "plain\n", None),
    ]


def test_marker_without_reason_is_refused():
    with pytest.raises(AssertionError, match="without a reason"):
        parse_blocks("<!-- docs-test: skip -->\n```python\nx = 1\n```\n", "p.md")


def test_every_page_is_scanned_and_blocks_exist():
    assert {_name(p) for p in PAGES} >= {"README.md", "docs/core.md"}
    assert {b.lang for b in CHECKED} == LANGS
    assert len(SKIPPED) <= max(3, len(CHECKED) // 10), f"too many opt-outs: {[(b.page, b.line) for b in SKIPPED]}"


@pytest.mark.parametrize("block", SKIPPED, ids=[f"{b.page}:{b.line}" for b in SKIPPED])
def test_skipped_block(block: Block):
    """Reports each opted-out block (``-rs`` lists page, line and reason)."""
    pytest.skip(f"{block.page}:{block.line}: {block.skip}")


# ---------------------------------------------------------------- python: run a page's blocks in order

_RUNNER = """\
import doctest, json, sys, traceback
blocks = json.load(open(sys.argv[1], encoding="utf-8"))
ns = {"__name__": "__main__"}
for page, line, code in blocks:
    try:
        if code.lstrip().startswith(">>>"):  # a doctest-style block: outputs are checked too
            test = doctest.DocTestParser().get_doctest(code, ns, page, page, line - 1)
            runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
            runner.run(test, clear_globs=False)
            ns.update(test.globs)  # later blocks see the names this one defined
            if runner.failures:
                raise AssertionError(f"{runner.failures} doctest example(s) failed")
        else:
            exec(compile("\\n" * (line - 1) + code, page, "exec"), ns)
    except SystemExit as e:
        if e.code not in (None, 0):
            print(f"{page}:{line}: block exited with {e.code!r}", file=sys.stderr)
            sys.exit(1)
    except BaseException:
        traceback.print_exc()
        print(f"{page}:{line}: block failed", file=sys.stderr)
        sys.exit(1)
"""


@pytest.mark.parametrize("page", _pages("python"))
def test_python_blocks_run(page: str, tmp_path: Path):
    blocks = _of(page, "python")
    (tmp_path / "blocks.json").write_text(json.dumps([[b.page, b.line, b.code] for b in blocks]), encoding="utf-8")
    (tmp_path / "_run_blocks.py").write_text(_RUNNER, encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    for folder in ("tests", "bench"):  # pages quote repo-relative paths (tests/audit, bench/...) as from a checkout
        (work / folder).symlink_to(ROOT / folder, target_is_directory=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "MPLBACKEND": "Agg"}
    try:
        r = subprocess.run([sys.executable, str(tmp_path / "_run_blocks.py"), str(tmp_path / "blocks.json")],
                           cwd=work, env=env, capture_output=True, text=True, timeout=PAGE_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{page}: python blocks took more than {PAGE_TIMEOUT:.0f} s")
    assert r.returncode == 0, f"{page}: python block failed\n{r.stdout[-2000:]}\n{r.stderr[-4000:]}"


# ---------------------------------------------------------------- yaml: parse and validate configs


def _check_yaml(block: Block) -> str:
    from rewardkit.core import build_reward
    from rewardkit.core.safe_load import parse_document
    from rewardkit.runner import parse_spec

    data = parse_document(block.code, "yaml", field=f"{block.page}:{block.line}")
    if isinstance(data, dict) and "variants" in data:
        parse_spec(data)
        return "experiment"
    if isinstance(data, dict) and "terms" in data:
        build_reward(data, field="")
        return "reward"
    if isinstance(data, dict) and isinstance(data.get("reward"), dict) and "terms" in data["reward"]:
        build_reward(data["reward"], field="reward")
        return "reward"
    return "document"


@pytest.mark.parametrize("page", _pages("yaml"))
def test_yaml_blocks_validate(page: str):
    failures = []
    for b in _of(page, "yaml"):
        try:
            _check_yaml(b)
        except Exception as e:
            failures.append(f"{b.page}:{b.line}: {type(e).__name__}: {e}")
    assert not failures, "\n".join(failures)


# ---------------------------------------------------------------- bash: CLI lines parse, scripts exist


def _commands(code: str) -> list[list[str]]:
    """The command lines of a shell block (continuations joined, comments dropped), each as argv."""
    joined = re.sub(r"\\\n", " ", code)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        for part in re.split(r"\s*(?:&&|\|\||;)\s*", line):
            argv = shlex.split(part, comments=True)
            while argv and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", argv[0]):  # VAR=value prefixes
                argv = argv[1:]
            if argv:
                out.append(argv)
    return out


def _check_command(argv: list[str]) -> None:
    if argv[0] == "rewardkit":
        from rewardkit.cli.main import build_parser

        parser, _ = build_parser()
        try:
            parser.parse_args(argv[1:])
        except SystemExit as e:
            if e.code not in (0, None):  # --help exits 0
                raise AssertionError(f"`{shlex.join(argv)}` does not parse") from None
    elif argv[0] in ("python", "python3"):
        rest = argv[1:]
        if rest[:2] == ["-m", "pytest"]:
            paths = [a.split("::")[0] for a in rest[2:] if not a.startswith("-") and "/" in a]
        elif rest and rest[0].endswith(".py"):
            paths = [rest[0]]
        else:
            paths = []
        missing = [p for p in paths if not (ROOT / p).exists()]
        assert not missing, f"`{shlex.join(argv)}` names missing files {missing}"


def test_command_checker_fails_on_bad_lines():
    with pytest.raises(AssertionError, match="does not parse"):
        _check_command(["rewardkit", "run", "--no-such-option"])
    with pytest.raises(AssertionError, match="missing files"):
        _check_command(["python", "bench/no/such_script.py"])
    _check_command(["rewardkit", "check", "reward.yaml"])
    assert _commands("A=1 rewardkit demo --quick  # fast\ncd x && python t.py \\\n  --n 2\n") == [
        ["rewardkit", "demo", "--quick"], ["cd", "x"], ["python", "t.py", "--n", "2"]]


@pytest.mark.parametrize("page", _pages("bash"))
def test_bash_blocks_parse(page: str, capsys: pytest.CaptureFixture[str]):
    failures = []
    for b in _of(page, "bash"):
        for argv in _commands(b.code):
            try:
                _check_command(argv)
            except AssertionError as e:
                err = capsys.readouterr().err.strip()
                failures.append(f"{b.page}:{b.line}: {e} {err}")
    assert not failures, "\n".join(failures)
