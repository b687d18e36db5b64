#!/usr/bin/env bash
# Install everything, then run the whole test suite (2 workers; < 15 min on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
python -m pytest -n 2 -q --durations=15 "$@"
