"""The ledger of the seed papers (docs/papers.md) is complete and names only things that exist."""

from __future__ import annotations

import importlib
import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LEDGER = ROOT / "docs" / "papers.md"
CATALOG = ROOT.parent / "shared" / "research" / "papers.md"
STATUSES = {"✓", "◐", "✗", "n-a"}

# The in-scope row numbers of the survey, frozen here so the check runs without shared/ beside the
# clone; when shared/ is there, the catalog itself is read and must agree with this list.
IN_SCOPE = frozenset({
    3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 23, 24, 25, 26, 27, 28, 29, 30,
    32, 34, 35, 36, 37, 38, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 54, 55, 56, 57, 58, 59, 61, 62,
    63, 64, 65, 66, 67, 68, 69, 70, 71, 73, 75, 76, 81, 82, 83, 84, 85, 86, 87, 89, 90, 92, 93, 94, 96,
    98, 99, 100, 102, 103, 104, 106, 107, 110, 113, 114, 118, 119, 121, 123, 124, 127, 128, 129, 131,
    135, 136, 137, 138, 139, 140, 142, 143, 144, 145, 146, 147, 148, 149, 150, 152, 153, 154, 155, 156,
    157, 158, 159, 160, 161, 162, 163, 164, 165, 166, 168, 169, 171, 172, 174, 176, 177, 179, 181, 183,
    185, 186, 187, 189, 191, 192, 193, 195, 197, 198,
})


def _ledger_rows() -> list[list[str]]:
    rows = []
    for line in LEDGER.read_text(encoding="utf-8").splitlines():
        if re.match(r"^\| \d+ \|", line):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def _items(cell: str) -> list[str]:
    return [] if cell in {"—", ""} else [item.strip() for item in cell.split(";") if item.strip()]


def _resolve(dotted: str) -> object:
    """Import the longest importable module prefix of ``dotted``, then walk the attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise ModuleNotFoundError(dotted)


def test_every_in_scope_row_appears_once() -> None:
    numbers = [int(row[0]) for row in _ledger_rows()]
    assert len(numbers) == len(set(numbers)), "a row appears twice"
    assert set(numbers) == IN_SCOPE


def test_frozen_list_matches_the_catalog() -> None:
    if not CATALOG.exists():
        pytest.skip(f"{CATALOG} is not beside this checkout")
    in_scope = set()
    for line in CATALOG.read_text(encoding="utf-8").splitlines():
        if re.match(r"^\| \d+ \|", line):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if cells[5] != "out-of-scope":
                in_scope.add(int(cells[0]))
    assert in_scope == IN_SCOPE


def test_counts_match_the_table() -> None:
    text = LEDGER.read_text(encoding="utf-8")
    block = text.split("<!-- ledger-counts -->")[1].split("<!-- /ledger-counts -->")[0]
    stated = {m.group(1): int(m.group(2)) for m in re.finditer(r"^\| (\S+) \| (\d+) \|$", block, re.M)}
    counted = Counter(row[4] for row in _ledger_rows())
    for status in STATUSES:
        assert stated[status] == counted[status], status
    assert "| in scope | 147 |" in block
    assert sum(counted.values()) == len(IN_SCOPE) == 147


@pytest.mark.parametrize("row", _ledger_rows(), ids=lambda row: f"row{row[0]}")
def test_row_names_things_that_exist(row: list[str]) -> None:
    number, _name, _category, cpu, status, where, tests, benches, docs, issue = row
    assert status in STATUSES
    if status in {"✓", "◐"}:
        assert _items(where) and _items(tests) and _items(docs), "a built row names its code, test and doc"
    if status == "✓":
        assert issue == "—", "a finished row has no open issue"
    if status == "✗":
        assert re.fullmatch(r"#\d+", issue), "a missing row names the issue that builds it"
    if status == "n-a":
        assert cpu == "no" or not _items(where)
    for dotted in _items(where):
        _resolve(dotted)
    for path in _items(tests) + _items(benches) + _items(docs):
        file_part = path.split("::")[0].split("#")[0]
        assert (ROOT / file_part).is_file(), f"row {number}: {file_part} does not exist"
