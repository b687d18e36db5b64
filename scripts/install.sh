#!/usr/bin/env bash
# Install rewardkit with every extra. torch goes first, pinned to the CPU build
# that pip can take without pulling CUDA packages; everything else keeps open ranges.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q "torch==2.13.0"
python -m pip install -q -e ".[all]"
# the frameworks whose own loaders and reward managers tests/integrations_llm/test_conformance.py runs
python -m pip install -q --no-deps "verl==0.9.1" "openrlhf==0.11.2"
