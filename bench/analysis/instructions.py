"""Instructions per mention of the whole analysis stage, counted by valgrind (callgrind).

    python -m bench.analysis.instructions [--n 1000] [--warm 500]

CPU-seconds drift on shared or throttled machines (twice as slow from one run to the next was seen
here); an instruction count does not, so it is the figure to compare two versions of the code by.
The stage runs twice under callgrind, both times loading the models, making the texts and analysing
``warm`` other texts first; the second run then analyses the ``n`` bench texts too. The difference
divided by ``n`` is the cost per mention. The segmenter and the word hasher remember the tokens
they have seen, so the figure falls as the warm-up grows (a long-running worker has seen its
vocabulary). Needs valgrind (Debian: ``apt-get install valgrind``); takes a few
minutes, as callgrind runs code about 50 times slower.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")
BATCH = 500


def _stage(n: int, warm: int, analyse: bool) -> None:
    """Inside callgrind: warm up on ``warm`` other texts, then analyse ``n`` bench texts — or only
    make them (the base run: reading the data and making the texts cancel out)."""
    from bench.analysis.throughput import mention_inputs, stage_setup, texts
    from yuqing.analysis.core import MentionInput, analyse_batch

    _, compiled, seg, models = stage_setup()

    def run(items: list[MentionInput]) -> None:
        for i in range(0, len(items), BATCH):
            analyse_batch(items[i : i + BATCH], compiled, models, seg)

    run(mention_inputs(texts(warm, seed=8)))
    made = mention_inputs(texts(n))  # in both runs: reading the data and making the texts cancel out
    if analyse:
        run(made)


def _count(n: int, warm: int, analyse: bool) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={tmp}/out",
            sys.executable,
            "-m",
            "bench.analysis.instructions",
            "--inner",
            str(n),
            "--warm",
            str(warm),
            *(["--analyse"] if analyse else []),
        ]
        env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or not found:
        raise SystemExit(f"callgrind run failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--warm", type=int, default=BATCH, help="other texts analysed first")
    ap.add_argument("--inner", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--analyse", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.inner is not None:
        _stage(args.inner, args.warm, args.analyse)
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    base, full = _count(args.n, args.warm, False), _count(args.n, args.warm, True)
    print(
        json.dumps(
            {
                "n": args.n,
                "warm": args.warm,
                "instructions_setup": base,
                "instructions_with_mentions": full,
                "instructions_per_mention": round((full - base) / args.n),
                "cwd": str(Path.cwd()),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
