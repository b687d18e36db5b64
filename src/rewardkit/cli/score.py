"""``rewardkit score``: score every row of a JSONL/Parquet dataset into a Parquet file (resumable)."""

from __future__ import annotations

import argparse

HELP = "score a dataset (JSONL/Parquet rows of prompt, completion, gold columns) into a Parquet file; resumable"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", required=True, help="reward config (.yaml/.yml/.toml/.json) with a 'reward' section")
    p.add_argument("--input", required=True, help="a .jsonl or .parquet file, one sample per row")
    p.add_argument("--output", required=True, help="the .parquet file to write (every input column + the scores)")
    p.add_argument("--backend", default="local", choices=["local", "ray"],
                   help="local worker processes (default) or Ray actors")
    p.add_argument("--address", default=None,
                   help="Ray cluster to join ('auto', host:port, ray://host:port; default: start a local one)")
    p.add_argument("--workers", type=int, default=None,
                   help="scoring processes or Ray actors, each building the reward once (default: CPUs; "
                        "0 = in this process, local only)")
    p.add_argument("--map", dest="mapping", action="append", default=[], metavar="FIELD=COLUMN",
                   help="read FIELD from input COLUMN, e.g. completion=response or answer=gold (repeatable)")
    p.add_argument("--fail-value", type=float, default=0.0,
                   help="total given to a row that cannot be scored (default 0.0)")
    p.add_argument("--chunk-rows", type=int, default=None,
                   help="rows per chunk, the unit of work and of resume (default 256)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    import math

    from rewardkit.core import ConfigError
    from rewardkit.runner.score import DEFAULT_CHUNK_ROWS, ColumnMap, score_file

    if not math.isfinite(args.fail_value):
        raise ConfigError("--fail-value", f"got {args.fail_value}", "a finite number")
    s = score_file(args.config, args.input, args.output, backend=args.backend, workers=args.workers,
                   address=args.address, columns=ColumnMap.parse(args.mapping), fail_value=args.fail_value,
                   chunk_rows=args.chunk_rows or DEFAULT_CHUNK_ROWS, progress=not args.no_progress)
    resumed = f", {s.resumed_chunks} resumed" if s.resumed_chunks else ""
    print(f"scored {s.rows} rows in {s.chunks} chunks ({s.scored_chunks} scored{resumed}) with {s.workers} "
          f"{s.backend} worker(s): {s.error_rows} error rows, {s.wall_s:.1f} s, {s.rows_per_s:.0f} rows/s")
    print(f"output: {s.output}")
    return 0
