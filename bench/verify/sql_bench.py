"""Benchmark 3: SQL execution-reward fidelity and throughput.

One command:  python bench/verify/sql_bench.py [--dbs 6] [--seed 0]

* Generates seeded SQLite databases (singer/concert and orders/customers schemas, with
  duplicates and NULLs placed on purpose) and (gold, predicted) query pairs made by rewrite
  rules whose label under every semantics is known *by construction* (reordered columns,
  DISTINCT added, ORDER BY changed, join vs subquery, CTE inlining, wrong filters, syntax
  errors ...).
* Checks rewardkit's execution match against those labels under each semantics
  (bird / multiset / ordered / permutation / spider) and reports agreement.
* Throughput: rewardkit (execution only, and the full Reasoning-SQL reward with sqlglot schema
  linking and n-grams) vs the plain BIRD evaluation done the standard way per call (connect,
  execute pred and gold, ``set(fetchall())`` equality), printed as a ratio.
* The pathological cartesian join: time until rewardkit's progress-handler deadline stops it.

Writes markdown tables to stdout.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass

from rewardkit.verify.sql import SEMANTICS, SQLVerifier

SEMS = list(SEMANTICS)  # bird, multiset, ordered, permutation, spider
ALL = dict.fromkeys(SEMS, True)
NONE = dict.fromkeys(SEMS, False)


def lab(**kw: bool) -> dict[str, bool]:
    out = dict(NONE)
    out.update(kw)
    return out


@dataclass
class Pair:
    rule: str
    db: str
    gold: str
    pred: str
    labels: dict[str, bool]


# ------------------------------------------------------------------------------------- data
FIRST = ["Ann", "Bob", "Cid", "Dee", "Eve", "Fay", "Gus", "Hal", "Ivy", "Jon", "Kim", "Lou", "Max", "Ned", "Oli",
         "Pam", "Quin", "Rae", "Sam", "Tia", "Uma", "Vic", "Wes", "Xia", "Yul", "Zed"]
COUNTRIES = ["FR", "US", "DE", "JP"]


def make_db(path: str, rng: random.Random) -> dict:
    """A database whose properties the rewrite labels rely on:

    * ``singer.name`` unique and sorted *inversely* to ``singer.age`` (ages distinct), so
      ``ORDER BY name`` is the reverse of ``ORDER BY age``;
    * ``singer.country`` has duplicates; ``singer.email`` has NULLs;
    * every concert references one singer (N:1), some singers have several concerts, some none.
    """
    n = rng.randint(8, 24)
    names = sorted(rng.sample(FIRST, n))
    ages = sorted(rng.sample(range(18, 90), n), reverse=True)
    rows = []
    for i, (nm, age) in enumerate(zip(names, ages, strict=True)):
        country = COUNTRIES[i % 3] if i < 4 else rng.choice(COUNTRIES)  # FR, US, DE, FR ... duplicates guaranteed
        email = None if i % 3 == 1 else f"{nm.lower()}@x.org"
        rows.append((i + 1, nm, country, age, email))
    order = list(range(n))
    rng.shuffle(order)  # insertion order unrelated to any sort key
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE singer(id INTEGER PRIMARY KEY, name TEXT, country TEXT, age INT, email TEXT);"
        "CREATE TABLE concert(cid INTEGER PRIMARY KEY, singer_id INT, year INT, venue TEXT);"
        "CREATE TABLE customers(id INTEGER PRIMARY KEY, city TEXT);"
        "CREATE TABLE orders(oid INTEGER PRIMARY KEY, customer_id INT, amount REAL);")
    con.executemany("INSERT INTO singer VALUES (?,?,?,?,?)", [rows[i] for i in order])
    concerts = []
    multi = rng.sample(range(1, n + 1), max(2, n // 3))
    for sid in multi:  # some singers with 2-3 concerts
        for _ in range(rng.randint(2, 3)):
            concerts.append((sid, rng.choice([2019, 2020, 2021]), rng.choice(["Olympia", "MSG", "Bercy"])))
    con.executemany("INSERT INTO concert(singer_id, year, venue) VALUES (?,?,?)", concerts)
    cities = ["Paris", "Lyon", "Nice"]
    con.executemany("INSERT INTO customers VALUES (?,?)", [(i, cities[i % 3]) for i in range(1, 10)])
    con.executemany("INSERT INTO orders(customer_id, amount) VALUES (?,?)",
                    [(rng.randint(1, 9), round(rng.uniform(1, 100), 2)) for _ in range(30)])
    con.commit()
    con.close()
    return {"ages": ages, "n": n, "multi": multi}


def rules(db: str, meta: dict, rng: random.Random) -> list[Pair]:
    ages = sorted(meta["ages"])
    a = ages[len(ages) // 2]  # an age present in the data
    k = max(1, meta["n"] // 4)
    P = []

    def add(rule: str, gold: str, pred: str, labels: dict[str, bool]) -> None:
        P.append(Pair(rule, db, gold, pred, labels))

    add("identical", f"SELECT name FROM singer WHERE age > {a}", f"SELECT name FROM singer WHERE age > {a}", ALL)
    add("alias rename", f"SELECT name FROM singer WHERE age > {a}",
        f"SELECT T9.name FROM singer AS T9 WHERE T9.age > {a}", ALL)
    add("predicate reorder", f"SELECT name FROM singer WHERE age > {a} AND country = 'FR'",
        f"SELECT name FROM singer WHERE country = 'FR' AND {a} < age", ALL)
    add("join vs IN subquery (N:1)",
        f"SELECT c.year, c.venue FROM concert c JOIN singer s ON c.singer_id = s.id WHERE s.age > {a}",
        f"SELECT year, venue FROM concert WHERE singer_id IN (SELECT id FROM singer WHERE age > {a})", ALL)
    add("IN vs EXISTS", "SELECT name FROM singer WHERE id IN (SELECT singer_id FROM concert)",
        "SELECT name FROM singer s WHERE EXISTS (SELECT 1 FROM concert c WHERE c.singer_id = s.id)", ALL)
    add("CTE inline", f"SELECT name FROM singer WHERE age < {a}",
        f"WITH young AS (SELECT * FROM singer WHERE age < {a}) SELECT name FROM young", ALL)
    add("group-by column order", "SELECT country, count(*) FROM singer GROUP BY country",
        "SELECT country, count(*) FROM singer GROUP BY country ORDER BY count(*)", ALL)
    add("pred adds ORDER BY (gold unordered)", "SELECT name, age FROM singer",
        "SELECT name, age FROM singer ORDER BY age DESC", ALL)
    add("same ORDER BY, equal sort", "SELECT name FROM singer ORDER BY age", "SELECT name FROM singer ORDER BY age ASC", ALL)
    # duplicates: join over a 1:N relationship repeats singers with several concerts
    add("join duplicates vs IN", "SELECT name FROM singer WHERE id IN (SELECT singer_id FROM concert)",
        "SELECT s.name FROM singer s JOIN concert c ON c.singer_id = s.id", lab(bird=True))
    add("DISTINCT added", "SELECT country FROM singer", "SELECT DISTINCT country FROM singer", lab(bird=True))
    add("DISTINCT removed", "SELECT DISTINCT country FROM singer", "SELECT country FROM singer", lab(bird=True))
    add("UNION vs UNION ALL", "SELECT country FROM singer UNION ALL SELECT country FROM singer",
        "SELECT country FROM singer UNION SELECT country FROM singer", lab(bird=True))
    add("columns reordered", f"SELECT name, age FROM singer WHERE age > {a}",
        f"SELECT age, name FROM singer WHERE age > {a}", lab(permutation=True, spider=True))
    add("columns reordered, 3 cols", "SELECT id, name, country FROM singer", "SELECT country, id, name FROM singer",
        lab(permutation=True, spider=True))
    add("ORDER BY direction flipped", "SELECT name FROM singer ORDER BY age",
        "SELECT name FROM singer ORDER BY age DESC", lab(bird=True, multiset=True, permutation=True))
    add("ORDER BY other key (inverse order)", "SELECT name, age FROM singer ORDER BY age",
        "SELECT name, age FROM singer ORDER BY name", lab(bird=True, multiset=True, permutation=True))
    add("ORDER BY equivalent key", "SELECT name FROM singer ORDER BY age", "SELECT name FROM singer ORDER BY name DESC", ALL)
    add("reordered cols + ORDER BY flipped", "SELECT name, age FROM singer ORDER BY age",
        "SELECT age, name FROM singer ORDER BY age DESC", lab(permutation=True))
    add("reordered cols, same ORDER BY", "SELECT name, age FROM singer ORDER BY age",
        "SELECT age, name FROM singer ORDER BY age", lab(permutation=True, spider=True))
    add("LIMIT with flipped ORDER BY", f"SELECT name FROM singer ORDER BY age LIMIT {k}",
        f"SELECT name FROM singer ORDER BY age DESC LIMIT {k}", NONE)
    add("wrong filter (> vs >=)", f"SELECT name FROM singer WHERE age > {a}",
        f"SELECT name FROM singer WHERE age >= {a}", NONE)
    add("dropped WHERE", "SELECT name FROM singer WHERE country = 'FR'", "SELECT name FROM singer", NONE)
    add("count(*) vs count(col) with NULLs", "SELECT count(*) FROM singer", "SELECT count(email) FROM singer", NONE)
    add("wrong aggregate", "SELECT max(age) FROM singer", "SELECT min(age) FROM singer", NONE)
    add("extra column", "SELECT name FROM singer", "SELECT name, age FROM singer", NONE)
    add("syntax error", "SELECT name FROM singer", "SELECT name FROM singer WHERE", NONE)
    add("unknown column", "SELECT name FROM singer", "SELECT nme FROM singer", NONE)
    add("write attempt", "SELECT name FROM singer", "DELETE FROM singer", NONE)
    add("orders join vs subquery",
        "SELECT o.amount FROM orders o JOIN customers c ON o.customer_id = c.id WHERE c.city = 'Paris'",
        "SELECT amount FROM orders WHERE customer_id IN (SELECT id FROM customers WHERE city = 'Paris')", ALL)
    add("orders wrong city", "SELECT o.amount FROM orders o JOIN customers c ON o.customer_id = c.id WHERE c.city = 'Paris'",
        "SELECT o.amount FROM orders o JOIN customers c ON o.customer_id = c.id WHERE c.city = 'Lyon'", NONE)
    return P


# ------------------------------------------------------------------------------------- baseline
def bird_exec_match(pred: str, gold: str, db_path: str) -> int:
    """The plain BIRD evaluation for one pair: connect, run pred then gold, compare sets."""
    conn = sqlite3.connect(db_path)
    try:
        cursor = conn.cursor()
        cursor.execute(pred)
        predicted_res = cursor.fetchall()
        cursor.execute(gold)
        ground_truth_res = cursor.fetchall()
        return int(set(predicted_res) == set(ground_truth_res))
    except Exception:
        return 0
    finally:
        conn.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dbs", type=int, default=6)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=5, help="passes over the pairs for throughput")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    tmp = tempfile.mkdtemp(prefix="rk_sql_bench_")
    pairs: list[Pair] = []
    for i in range(args.dbs):
        path = os.path.join(tmp, f"db{i}.sqlite")
        meta = make_db(path, rng)
        pairs += rules(path, meta, rng)
    # the benchmark copies (writes are blocked anyway; the digest check below confirms it)
    digests = {p.db: open(p.db, "rb").read() for p in pairs}

    print(f"# SQL execution reward benchmark\n\n{len(pairs)} labelled pairs on {args.dbs} generated SQLite "
          f"databases, {len({p.rule for p in pairs})} rewrite rules, seed {args.seed}, sqlite {sqlite3.sqlite_version}.\n")

    # ---- agreement per semantics
    print("## Agreement with by-construction labels\n")
    print("| semantics | rewardkit agreement | BIRD baseline agreement |")
    print("|---|---|---|")
    disagreements = []
    for sem in SEMS:
        v = SQLVerifier(semantics=sem, weights={"execution": 1.0})
        ok = ok_bird = 0
        for p in pairs:
            got = v.verify(p.pred, db_path=p.db, gold_sql=p.gold).components["execution"] == 1.0
            ok += got == p.labels[sem]
            if got != p.labels[sem]:
                disagreements.append((sem, p.rule, p.pred))
            ok_bird += bool(bird_exec_match(p.pred, p.gold, p.db)) == p.labels[sem]
        print(f"| {sem} | {ok}/{len(pairs)} = {100 * ok / len(pairs):.1f}% | {100 * ok_bird / len(pairs):.1f}% |")
    if disagreements:
        print("\nDisagreements:", disagreements[:10])
    assert all(open(db, "rb").read() == d for db, d in digests.items()), "a database changed!"

    # ---- per-rule label table (documentation of the semantics)
    print("\n## Labels per rewrite rule (1 = match)\n")
    print("| rule | " + " | ".join(SEMS) + " |")
    print("|---|" + "---|" * len(SEMS))
    seen = set()
    for p in pairs:
        if p.rule in seen:
            continue
        seen.add(p.rule)
        print(f"| {p.rule} | " + " | ".join(str(int(p.labels[s])) for s in SEMS) + " |")

    # ---- throughput
    def timed(fn) -> float:
        t0 = time.perf_counter()
        for _ in range(args.repeat):
            for p in pairs:
                fn(p)
        return args.repeat * len(pairs) / (time.perf_counter() - t0)

    exec_only = SQLVerifier(semantics="bird", weights={"execution": 1.0})
    no_gold_cache = SQLVerifier(semantics="bird", weights={"execution": 1.0}, cache_size=0)
    full = SQLVerifier(semantics="bird")
    spider = SQLVerifier(semantics="spider", weights={"execution": 1.0})
    timed(lambda p: exec_only.verify(p.pred, db_path=p.db, gold_sql=p.gold))  # warm caches
    timed(lambda p: full.verify(p.pred, db_path=p.db, gold_sql=p.gold))
    qps_bird = timed(lambda p: bird_exec_match(p.pred, p.gold, p.db))
    rows = [
        ("BIRD baseline (connect + run both + set compare, per call)", qps_bird),
        ("rewardkit exec match, bird (cached connection + gold result)",
         timed(lambda p: exec_only.verify(p.pred, db_path=p.db, gold_sql=p.gold))),
        ("rewardkit exec match, bird, gold cache off",
         timed(lambda p: no_gold_cache.verify(p.pred, db_path=p.db, gold_sql=p.gold))),
        ("rewardkit exec match, spider (column permutations)",
         timed(lambda p: spider.verify(p.pred, db_path=p.db, gold_sql=p.gold))),
        ("rewardkit Reasoning-SQL total (exec + sqlglot syntax + qualify schema-link + n-gram)",
         timed(lambda p: full.verify(p.pred, db_path=p.db, gold_sql=p.gold))),
    ]
    print(f"\n## Throughput (1 core, {args.repeat} passes over {len(pairs)} pairs)\n")
    print("| scorer | queries/s | ratio vs BIRD baseline |")
    print("|---|---|---|")
    for name, q in rows:
        print(f"| {name} | {q:,.0f} | {q / qps_bird:.2f}x |")

    # ---- runaway query
    bomb_db = os.path.join(tmp, "bomb.sqlite")
    con = sqlite3.connect(bomb_db)
    con.execute("CREATE TABLE big(x INT)")
    con.executemany("INSERT INTO big VALUES (?)", [(i,) for i in range(5000)])
    con.commit()
    con.close()
    v = SQLVerifier(weights={"execution": 1.0}, timeout_s=1.0)
    t0 = time.perf_counter()
    r = v.verify("SELECT count(*) FROM big a, big b, big c", db_path=bomb_db, gold_sql="SELECT 1")
    dt = time.perf_counter() - t0
    print("\n## Runaway query (5000^3-row cartesian join, timeout_s=1.0)\n")
    print("| scorer | outcome | wall time |")
    print("|---|---|---|")
    print(f"| rewardkit (progress-handler deadline) | error={r.error}, reward={r.value} | {dt:.2f} s |")
    print("| BIRD baseline without func_timeout | runs to completion (1.25e11 rows; not run) | - |")
    if disagreements:
        sys.exit(1)


if __name__ == "__main__":
    main()
