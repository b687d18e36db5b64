"""Tests of rewardkit.verify.sql on real SQLite databases and the real sqlglot."""

from __future__ import annotations

import doctest
import hashlib
import math
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rewardkit.verify.sql as sqlmod
from rewardkit.core import ConfigError, SampleBatch, build_reward
from rewardkit.verify.sql import (
    ReadOnlyDatabase, SQLVerifier, extract_sql, gold_has_order_by, ngram_jaccard, results_match,
    schema_items, schema_link_jaccard, sql_syntax_ok,
)


def _make_db(path: Path, n_big: int = 0) -> Path:
    con = sqlite3.connect(path)
    con.executescript(
        """
        CREATE TABLE singer(id INTEGER PRIMARY KEY, name TEXT, country TEXT, age INT);
        CREATE TABLE concert(id INTEGER PRIMARY KEY, singer_id INT, year INT, venue TEXT);
        INSERT INTO singer VALUES (1, 'Ann', 'FR', 30), (2, 'Bob', 'US', 40), (3, 'Cid', 'FR', 30),
                                  (4, 'Dee', NULL, 25), (5, 'Ann', 'US', 52);
        INSERT INTO concert VALUES (1, 1, 2020, 'Olympia'), (2, 1, 2021, 'Bercy'), (3, 2, 2020, 'MSG'),
                                   (4, 5, 2022, 'MSG'), (5, 3, 2020, 'Olympia');
        CREATE TABLE big(x INT);
        """
    )
    if n_big:
        con.executemany("INSERT INTO big VALUES (?)", [(i,) for i in range(n_big)])
    con.commit()
    con.close()
    return path


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    return _make_db(tmp_path_factory.mktemp("sql") / "music.db", n_big=3000)


def _digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_doctests():
    res = doctest.testmod(sqlmod, optionflags=doctest.ELLIPSIS)
    assert res.attempted > 10 and res.failed == 0


# ---------------------------------------------------------------------------------- semantics
@pytest.mark.parametrize("pred,gold,expect", [
    # (pred, gold, {semantics: expected})
    ("SELECT name FROM singer", "SELECT DISTINCT name FROM singer",
     {"bird": True, "multiset": False, "ordered": False, "permutation": False, "spider": False}),
    ("SELECT age, name FROM singer", "SELECT name, age FROM singer",
     {"bird": False, "multiset": False, "ordered": False, "permutation": True, "spider": True}),
    ("SELECT name FROM singer ORDER BY age DESC", "SELECT name FROM singer ORDER BY age",
     {"bird": True, "multiset": True, "ordered": False, "permutation": True, "spider": False}),
    ("SELECT name FROM singer ORDER BY age", "SELECT name FROM singer",
     {"bird": True, "multiset": True, "ordered": True, "permutation": True, "spider": True}),
    ("SELECT name FROM singer WHERE age > 30", "SELECT name FROM singer WHERE age >= 30",
     {"bird": False, "multiset": False, "ordered": False, "permutation": False, "spider": False}),
    ("SELECT s.name FROM singer s JOIN concert c ON s.id = c.singer_id WHERE c.year = 2020",
     "SELECT name FROM singer WHERE id IN (SELECT singer_id FROM concert WHERE year = 2020)",
     {"bird": True, "multiset": True, "ordered": True, "permutation": True, "spider": True}),
])
def test_semantics_table(db, pred, gold, expect):
    for sem, want in expect.items():
        v = SQLVerifier(semantics=sem, weights={"execution": 1.0})
        r = v.verify(pred, db_path=str(db), gold_sql=gold)
        assert r.components["execution"] == float(want), (sem, pred, gold)
        assert r.value == float(want)


def test_order_by_detection_uses_ast():
    assert gold_has_order_by("SELECT a FROM t ORDER BY a")
    assert gold_has_order_by("SELECT a FROM t UNION SELECT b FROM u ORDER BY 1")
    assert not gold_has_order_by("SELECT a FROM (SELECT a FROM t ORDER BY a LIMIT 3)")
    assert not gold_has_order_by("SELECT 'x order by y' AS s FROM t")
    assert not gold_has_order_by("SELECT a FROM t -- ORDER BY a")
    assert not gold_has_order_by("not sql at all ORDER BY")


def test_results_match_edge_cases():
    assert results_match([], [], "spider")
    assert not results_match([(1,)], [], "bird")
    assert not results_match([(1, 2)], [(1,)], "spider")  # width differs
    # permutation search must find the right pairing when column multisets are equal
    gold = [(1, 1, 2), (2, 2, 1)]
    pred = [(1, 2, 1), (2, 1, 2)]  # columns (a, c, b)
    assert results_match(pred, gold, "permutation")
    assert not results_match(pred, gold, "multiset")
    with pytest.raises(ConfigError, match="semantics"):
        results_match([], [], "nope")


# ---------------------------------------------------------------------------------- safety
@pytest.mark.parametrize("attack", [
    "DELETE FROM singer", "INSERT INTO singer VALUES (9, 'x', 'y', 1)", "DROP TABLE singer",
    "UPDATE singer SET age = 0", "PRAGMA query_only = 0", "ATTACH DATABASE 'evil.db' AS evil",
    "CREATE TABLE t2(a)", "SELECT 1; DELETE FROM singer",
])
def test_database_is_read_only(db, attack, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = _digest(db)
    r = SQLVerifier().verify(attack, db_path=str(db), gold_sql="SELECT name FROM singer", )
    assert r.components["execution"] == 0.0 and r.components["executes"] == 0.0
    assert r.error in ("not_authorized", "sql_error")
    assert _digest(db) == before
    assert not (tmp_path / "evil.db").exists()


def test_timeout_stops_runaway_join(db):
    rodb = ReadOnlyDatabase(db)
    t0 = time.perf_counter()
    res = rodb.execute("SELECT count(*) FROM big a, big b, big c", timeout_s=0.2)
    assert res.error == "timeout"
    assert time.perf_counter() - t0 < 2.0
    # the connection is still usable afterwards
    assert rodb.execute("SELECT count(*) FROM big").rows == [(3000,)]
    inf = rodb.execute("WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT max(x) FROM r",
                       timeout_s=0.2)
    assert inf.error == "timeout"


def test_row_cap(db):
    rodb = ReadOnlyDatabase(db)
    assert rodb.execute("SELECT x FROM big", max_rows=100).error == "row_cap"
    assert len(rodb.execute("SELECT x FROM big", max_rows=3000).rows) == 3000
    r = SQLVerifier(max_rows=10).verify("SELECT x FROM big", db_path=str(db), gold_sql="SELECT 1")
    assert r.error == "row_cap" and r.components["execution"] == 0.0


def test_huge_blob_is_refused(db):
    res = ReadOnlyDatabase(db).execute("SELECT zeroblob(500000000)")
    assert res.error is not None


def test_bad_inputs_never_raise(db, tmp_path):
    v = SQLVerifier()
    r = v.verify("SELECT nosuchcol FROM singer", db_path=str(db), gold_sql="SELECT name FROM singer")
    assert r.error == "sql_error" and r.components["syntax"] == 1.0 and r.components["execution"] == 0.0
    assert v.verify("", db_path=str(db), gold_sql="SELECT 1").error == "no_sql"
    assert v.verify("SELECT 1", db_path=str(tmp_path / "missing.db"), gold_sql="SELECT 1").error == "bad_reference"
    assert v.verify("SELECT 1", db_path=str(db), gold_sql="SELEC broken").error == "bad_reference"
    assert v.verify("SELECT 1", db_path=str(db), gold_sql=None).error == "bad_reference"
    assert v.verify("SELECT 1", db_path=str(db), gold_sql="SELECT 1", schema=["not", "a", "map"]).error == "bad_reference"
    assert v.verify("SELECT name FROM singer", db_path=str(db), gold_sql="SELECT name FROM singer",
                    schema='{"singer": ["name"]}').components["schema_link"] == 1.0
    r = v.verify("SELECT (" * 3000 + "1", db_path=str(db), gold_sql="SELECT 1")
    assert math.isfinite(r.value)


# ---------------------------------------------------------------------------------- partial rewards
def test_extract_sql_variants():
    assert extract_sql("```sql\nSELECT a FROM t;\n```") == "SELECT a FROM t"
    assert extract_sql("```\nSELECT b FROM t\n```") == "SELECT b FROM t"
    assert extract_sql("```sql\nSELECT 1\n``` then ```sql\nSELECT 2\n```") == "SELECT 2"
    assert extract_sql("<think>SELECT wrong</think><answer>SELECT right FROM t</answer>") == "SELECT right FROM t"
    assert (extract_sql("First SELECT 1; finally WITH x AS (SELECT 2) SELECT * FROM x")
            == "WITH x AS (SELECT 2) SELECT * FROM x")
    assert extract_sql("") is None and extract_sql("nothing") is None
    assert extract_sql("Answer: ```sql SELECT `name` FROM t```") == "SELECT `name` FROM t"


def test_syntax_and_schema_link(db):
    schema = ReadOnlyDatabase(db).schema
    assert sql_syntax_ok("SELECT name FROM singer WHERE age > 3")
    assert not sql_syntax_ok("SELECT name FROM WHERE")
    gold = "SELECT name FROM singer WHERE id IN (SELECT singer_id FROM concert)"
    join = "SELECT T1.name FROM singer AS T1 JOIN concert AS T2 ON T1.id = T2.singer_id"
    assert schema_items(gold, schema) == {"singer", "concert", "singer.name", "singer.id", "concert.singer_id"}
    assert schema_link_jaccard(join, gold, schema) == 1.0  # aliases resolved, same items
    # alias T1 means different tables in different scopes
    items = schema_items("SELECT T1.name FROM singer T1 WHERE T1.id IN (SELECT T1.singer_id FROM concert T1)", schema)
    assert "concert.singer_id" in items and "singer.singer_id" not in items
    # SELECT * expands to all columns with a schema
    assert {"singer.age", "singer.country"} <= schema_items("SELECT * FROM singer", schema)
    # unknown columns do not crash and lower the score
    assert 0 < schema_link_jaccard("SELECT nosuch FROM singer", "SELECT name FROM singer", schema) < 1
    assert schema_link_jaccard("garbage (", gold, schema) == 0.0


def test_ngram_jaccard_orders_similarity():
    gold = "SELECT name FROM singer WHERE age > 30"
    close = "SELECT name FROM singer WHERE age >= 30"
    far = "SELECT count(*) FROM concert"
    assert ngram_jaccard(gold, gold) == 1.0
    assert 1.0 > ngram_jaccard(close, gold) > ngram_jaccard(far, gold) >= 0.0
    assert ngram_jaccard("select NAME from singer where age>30", gold) == 1.0  # case/spacing-insensitive


def test_reasoning_sql_weighted_total(db):
    v = SQLVerifier()
    gold = "SELECT name FROM singer WHERE country = 'FR'"
    right = v.verify(f"<answer>{gold}</answer>", db_path=str(db), gold_sql=gold)
    assert right.value == pytest.approx(6.0) and right.error is None
    wrong = v.verify("SELECT name FROM singer WHERE country = 'US'", db_path=str(db), gold_sql=gold)
    assert wrong.components["execution"] == 0.0 and wrong.components["syntax"] == 1.0
    assert 1.0 < wrong.value < 3.0
    assert SQLVerifier(normalize=True).verify(gold, db_path=str(db), gold_sql=gold).value == pytest.approx(1.0)
    with pytest.raises(ConfigError, match=r"weights\.bogus"):
        SQLVerifier(weights={"bogus": 1.0})


def test_registered_terms_on_a_batch(db):
    reward = build_reward({"terms": [
        {"type": "sql_reward", "params": {"semantics": "spider"}},
        {"type": "sql_syntax"},
    ]})
    gold = "SELECT name, age FROM singer"
    batch = SampleBatch(["q"] * 3, ["SELECT age, name FROM singer", "SELECT name FROM singer", "oops"],
                        {"db_path": [str(db)] * 3, "gold_sql": [gold] * 3})
    total = reward(batch)
    parts = reward.evaluate(batch).terms
    assert set(parts) == {"sql_reward", "sql_syntax"}
    assert total.shape == (3,)
    assert total[0] > total[1] > total[2]


def test_threads_share_a_verifier(db):
    v = SQLVerifier()
    gold = "SELECT name FROM singer WHERE age > 28"
    results: list[float] = []

    def work():
        for _ in range(20):
            results.append(v.verify(gold, db_path=str(db), gold_sql=gold).components["execution"])

    ts = [threading.Thread(target=work) for _ in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert results == [1.0] * 60


# ---------------------------------------------------------------------------------- fuzzing
_SQL_WORDS = ["SELECT", "FROM", "WHERE", "singer", "concert", "name", "age", "(", ")", ",", "*", "=", "'x'",
              "1", "JOIN", "ON", "ORDER BY", "GROUP BY", "DISTINCT", "UNION", ";", "--", "\"", "`", "NULL",
              "count(*)", "big", "LIMIT", "WITH", "AS", "<answer>", "```sql\n", "```"]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.text(max_size=200), st.lists(st.sampled_from(_SQL_WORDS), max_size=25).map(" ".join)))
def test_fuzz_never_raises_and_is_finite(db, text):
    for sem in ("bird", "spider"):
        r = SQLVerifier(semantics=sem, timeout_s=0.5).safe_verify(text, db_path=str(db), gold_sql="SELECT name FROM singer")
        assert math.isfinite(r.value) and 0.0 <= r.value <= 6.0
        assert r.error is None or not r.error.startswith("internal"), r


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.text(max_size=150), st.lists(st.sampled_from(_SQL_WORDS), max_size=20).map(" ".join)),
       st.one_of(st.none(), st.text(max_size=40), st.just("SELECT name FROM singer")))
def test_fuzz_syntax_and_ngram_terms(text, gold):
    from rewardkit.core import get_factory

    batch = SampleBatch(["q"], [text], {"gold_sql": [gold]})
    syn = get_factory("sql_syntax").factory()(batch)
    ng = get_factory("sql_ngram").factory(n=3)(batch)
    assert syn[0] in (0.0, 1.0) and 0.0 <= ng[0] <= 1.0
