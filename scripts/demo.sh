#!/usr/bin/env bash
# Install everything, then run the built-in demo and print where its report is.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
rewardkit demo "$@"
