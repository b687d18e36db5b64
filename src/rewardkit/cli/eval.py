"""``rewardkit eval``: run a model on a task through an OpenAI-compatible endpoint, or re-score saved outputs."""

from __future__ import annotations

import argparse
import json

HELP = "evaluate a model on a task (OpenAI-compatible endpoint, n samples per prompt) or re-score saved outputs"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--task", required=True, help="a registered task (math, code, sql, structured, toolcall), "
                                                 "a task file (.yaml) or a task module (see docs/llm-quickstart.md)")
    p.add_argument("--base-url", default=None, help="OpenAI-compatible API root, e.g. http://127.0.0.1:8000/v1")
    p.add_argument("--model", default="model", help="model name sent to the endpoint (default: model)")
    p.add_argument("-n", type=int, default=1, help="samples per prompt (default 1)")
    p.add_argument("--outputs", default=None, metavar="FILE.jsonl",
                   help="re-score saved outputs instead of generating: one JSON object per line with "
                        "'completion' and 'index' (the task row) or the row's columns")
    p.add_argument("--out", default=None, help="output directory (default: runs/eval-<task>-<model>)")
    p.add_argument("--limit", type=int, default=None, help="evaluate only the first N prompts")
    p.add_argument("--temperature", type=float, default=1.0, help="sampling temperature (default 1.0)")
    p.add_argument("--max-tokens", type=int, default=None, help="max_tokens of each request")
    p.add_argument("--concurrency", type=int, default=4, help="prompts generated at once (default 4)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per request attempt (default 60)")
    p.add_argument("--max-retries", type=int, default=2, help="retries of a failed request (default 2)")
    p.add_argument("--api-key-env", default="OPENAI_API_KEY", help="environment variable holding the API key")
    p.add_argument("--seed", type=int, default=0, help="request j of a prompt is sent with seed + j (default 0)")
    p.add_argument("--pass-term", default=None, help="the term pass@k reads (default: the reward's first term)")
    p.add_argument("--pass-threshold", type=float, default=1.0, help="a sample passes at >= this value (default 1)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON instead of a table")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from rewardkit.runner.evaluate import evaluate, markdown_summary
    from rewardkit.tasks import load_task

    task = load_task(args.task)  # ConfigError -> one line, exit 2 (cli.main)
    label = "outputs" if args.outputs else args.model
    out = args.out or f"runs/eval-{task.name}-{''.join(c if c.isalnum() or c in '-_.' else '_' for c in label)}"
    params = {"temperature": args.temperature}
    if args.max_tokens is not None:
        params["max_tokens"] = args.max_tokens
    s = evaluate(task, out_dir=out, base_url=args.base_url, model=args.model, n=args.n, outputs=args.outputs,
                 limit=args.limit, params=params, concurrency=args.concurrency, timeout=args.timeout,
                 max_retries=args.max_retries, api_key_env=args.api_key_env, seed=args.seed,
                 pass_term=args.pass_term, pass_threshold=args.pass_threshold, progress=not args.no_progress)
    if args.json:
        print(json.dumps(s, indent=2, sort_keys=True))
    else:
        print(markdown_summary(s))
        print(f"results: {s['database']}")
        print(f"report: {s['report']}")
    return 0
