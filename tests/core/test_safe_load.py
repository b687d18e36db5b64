"""Bounded document loading: budgets on bytes, depth, expanded nodes and aliases; encodings."""

from __future__ import annotations

import resource
import time

import pytest

from rewardkit.core.errors import ConfigError, LimitExceeded
from rewardkit.core.safe_load import parse_document, read_document

# 342 bytes that expand to 9**9 = 387,420,489 strings
BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{n}: &{n} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True))


def test_billion_laughs_is_rejected_fast_and_small():
    assert len(BOMB.encode()) == 342
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    with pytest.raises(LimitExceeded, match=r"^document: aliases expand to more than 200000 nodes"):
        parse_document(BOMB, "yaml")
    assert time.perf_counter() - t0 < 1.0
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0 < 50_000  # KiB: no expansion happened


def test_aliases_within_budget_load_and_count_expanded():
    doc = "a: &a [1, 2, 3]\nb: [*a, *a]\n"
    assert parse_document(doc, "yaml") == {"a": [1, 2, 3], "b": [[1, 2, 3], [1, 2, 3]]}
    # nodes: root 1 + keys 2 + a (1+3) + b (1 + 2*4) = 16
    assert parse_document(doc, "yaml", max_nodes=16)["b"][1] == [1, 2, 3]
    with pytest.raises(LimitExceeded, match="aliases expand to more than 15 nodes"):
        parse_document(doc, "yaml", max_nodes=15)
    with pytest.raises(LimitExceeded, match="more than 1 YAML aliases"):
        parse_document(doc, "yaml", max_aliases=1)


def test_merge_keys_still_work():
    doc = "base: &b {x: 1}\nd: {<<: *b, y: 2}\n"
    assert parse_document(doc, "yaml")["d"] == {"x": 1, "y": 2}


@pytest.mark.parametrize("fmt,doc", [
    ("yaml", "k: " + "[" * 65 + "]" * 65),
    ("json", '{"k": ' + "[" * 64 + "]" * 64 + "}"),
    ("toml", "k = " + "[" * 64 + "]" * 64),
    ("json", "[" * 200_000 + "]" * 200_000),  # beyond the C parser's recursion limit
])
def test_depth(fmt, doc):
    with pytest.raises(LimitExceeded, match="nesting deeper than 64 levels"):
        parse_document(doc, fmt)


def test_depth_at_the_limit_is_accepted():
    assert parse_document("[" * 64 + "]" * 64, "json") is not None
    assert parse_document("k: " + "[" * 63 + "]" * 63, "yaml") is not None


def test_node_budget_for_json_and_toml():
    with pytest.raises(LimitExceeded, match="more than 100 nodes"):
        parse_document("[" + ",".join(["1"] * 100) + "]", "json", max_nodes=100)
    with pytest.raises(LimitExceeded, match="more than 100 nodes"):
        parse_document("a = [" + ",".join(["1"] * 100) + "]", "toml", max_nodes=100)


def test_byte_budget_checked_before_parsing():
    with pytest.raises(LimitExceeded, match="larger than the limit of 10 bytes"):
        parse_document("[1, 2, 3, 4, 5]", "json", max_bytes=10)
    with pytest.raises(LimitExceeded, match="larger than the limit of 10 bytes"):
        parse_document("\u00e9" * 6, "yaml", max_bytes=10)  # 6 characters, 12 UTF-8 bytes
    assert parse_document("\u00e9" * 5, "yaml", max_bytes=10) == "\u00e9" * 5


def test_recursive_alias():
    with pytest.raises(ConfigError, match=r"recursive alias \*a"):
        parse_document("a: &a [1, *a]", "yaml")


def test_unsafe_tags_stay_rejected():
    with pytest.raises(ConfigError, match="cannot parse"):
        parse_document("!!python/object/apply:os.system ['true']", "yaml")


def test_encodings(tmp_path):
    text = "reward:\n  name: caf\u00e9\n"
    expected = {"reward": {"name": "caf\u00e9"}}
    for enc in ("utf-8", "utf-8-sig", "utf-16", "utf-32"):
        p = tmp_path / f"{enc}.yaml"
        p.write_bytes(text.encode(enc))
        assert read_document(p) == expected, enc
    (tmp_path / "latin1.yaml").write_bytes(text.encode("latin-1"))
    with pytest.raises(ConfigError, match=r"latin1.yaml: not valid UTF-8 \(byte 0xe9 at offset 19\)"):
        read_document(tmp_path / "latin1.yaml")
    (tmp_path / "nobom.yaml").write_bytes(text.encode("utf-16-le"))
    with pytest.raises(ConfigError, match=r"contains a NUL byte at offset 1 \(UTF-16 without a byte-order mark\?\)"):
        read_document(tmp_path / "nobom.yaml")


def test_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="is a directory"):
        read_document(tmp_path)
    with pytest.raises(ConfigError, match="file not found"):
        read_document(tmp_path / "x.yaml")
    big = tmp_path / "big.json"
    big.write_text("[" + "0," * 1000 + "0]")
    with pytest.raises(LimitExceeded, match="2003 bytes is larger than the limit of 1000"):
        read_document(big, max_bytes=1000)
    with pytest.raises(ConfigError, match=r"unknown extension '\.txt'"):
        read_document(tmp_path / "a.txt")
    assert read_document(big, fmt="json")[:2] == [0, 0]
