"""The fast path parses the gold of a GRPO group once, not once per completion compared with it."""

from rewardkit.verify.math import exact
from rewardkit.verify.math.exact import exact_equal, parse_answer_value


def test_gold_parsed_once_for_a_group(monkeypatch):
    calls: list[str] = []
    real = exact._parse_uncached

    def counting(s, locale):
        calls.append(s)
        return real(s, locale)

    monkeypatch.setattr(exact, "_parse_uncached", counting)
    monkeypatch.setattr(exact, "_PARSE_CACHE", exact.LRUCache(64))
    gold = "\\frac{3}{7} + \\sqrt{2}"
    preds = ["3/7 + sqrt(2)", "\\sqrt{2} + \\frac{6}{14}", "\\frac{3}{7}", "3/7 + sqrt(2)"]
    assert [exact_equal(gold, p) for p in preds] == [True, True, False, True]
    assert calls.count(gold) == 1
    assert sorted(c for c in calls if c != gold) == sorted(preds)  # answers are parsed each time, not kept
    assert len(exact._PARSE_CACHE) == 1


def test_public_parse_tree_is_not_the_cached_one():
    tree = parse_answer_value("1, 2, 3")
    assert tree is not None and tree[0] == "list"
    tree[1].clear()  # a caller changing its tree does not change later verdicts
    assert parse_answer_value("1, 2, 3")[1] != []
    assert exact_equal("1, 2, 3", "3, 2, 1") is True
