#!/usr/bin/env bash
# Quality gates (issue #9): ruff (SB3's rule selection, complexity <= 15) and mypy (core, advantage, integrations).
# Configuration: [tool.ruff] and [tool.mypy] in pyproject.toml. Run from anywhere; exits non-zero on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m ruff check src tests bench
python -m mypy
