#!/usr/bin/env bash
# Measure the installed size of rewardkit and each extra, each in a fresh venv (docs/install.md).
#
#   bash scripts/install_sizes.sh                     # core llm env runner all
#   bash scripts/install_sizes.sh core llm            # only these
#   KEEP=1 bash scripts/install_sizes.sh core         # keep the venvs (under $OUT)
#   bash scripts/install_sizes.sh before              # the core install before issue #12 (for comparison)
#
# Prints one markdown row per install: MB added to an empty venv, distributions added, and whether
# `import torch / gymnasium / matplotlib / scipy` would work in it. Torch is installed first,
# pinned (`pip install torch==2.13.0`, the CPU wheel), for the installs whose extras need it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${OUT:-$(mktemp -d /tmp/rk_install_sizes.XXXX)}
PY=${PYTHON:-python3}
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(core llm env runner all)

base_venv="$OUT/_empty"
$PY -m venv "$base_venv"
empty_mb=$(du -sm "$base_venv" | cut -f1)
empty_n=$("$base_venv/bin/python" -m pip list --format=freeze 2>/dev/null | wc -l)

echo "| install | command | MB (venv minus an empty venv) | distributions added | torch | gymnasium | matplotlib | scipy |"
echo "|---|---|---|---|---|---|---|---|"
for t in "${targets[@]}"; do
  v="$OUT/$t"
  rm -rf "$v"
  $PY -m venv "$v"
  spec="."
  [ "$t" != core ] && spec=".[$t]"
  cmd="pip install '$spec'"
  if [ "$t" = before ]; then  # the former `dependencies` of pyproject.toml, then rewardkit itself
    old=(numpy scipy pyyaml rich gymnasium matplotlib)
    "$v/bin/python" -m pip install -q "${old[@]}"
    spec="."
    cmd="pip install ${old[*]} && pip install --no-deps ."
    (cd "$ROOT" && "$v/bin/python" -m pip install -q --no-deps "$spec")
  fi
  case "$t" in
    all|runner|rl|explore|learn|trl)  # these pull torch: the pinned CPU wheel first
      "$v/bin/python" -m pip install -q "torch==2.13.0"
      cmd="pip install torch==2.13.0 && $cmd";;
  esac
  [ "$t" = before ] || (cd "$ROOT" && "$v/bin/python" -m pip install -q "$spec")
  mb=$(( $(du -sm "$v" | cut -f1) - empty_mb ))
  n=$(( $("$v/bin/python" -m pip list --format=freeze 2>/dev/null | wc -l) - empty_n ))
  has() { "$v/bin/python" -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('$1') is None)" && echo yes || echo no; }
  echo "| $t | \`$cmd\` | $mb | $n | $(has torch) | $(has gymnasium) | $(has matplotlib) | $(has scipy) |"
  [ "$t" = before ] || "$v/bin/python" -c "import rewardkit, sys; bad = {'torch', 'gymnasium', 'matplotlib', 'scipy'} & set(sys.modules); \
sys.exit(f'import rewardkit imported {bad}' if bad else 0)"
  [ -z "${KEEP:-}" ] && rm -rf "$v"
done
[ -z "${KEEP:-}" ] && rm -rf "$OUT"
exit 0
