"""Memory of the compiled temporal memory under 1,000,000 steps of random input.

Random input is the worst case: every column bursts every step, so every step creates new
segments (one per active column) until every cell holds ``max_segments_per_cell`` and the
least useful segment is dropped for each new one. Bounded memory means the segment and
synapse counts, and the process's resident memory, stop growing once the limits are reached.

    python benchmarks/htm_memory.py --steps 1000000 --settings nab

Prints, at every checkpoint: steps, segments, synapses, resident set size now and at peak.
Stops early (exit 1) if the resident size passes ``--max-rss-gb``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import numpy as np

from dendrix.htm.temporal_memory_fast import FastTemporalMemory

SETTINGS = {
    "default": {},
    "nab": {"max_segments_per_cell": 128, "max_synapses_per_segment": 32},
}


def rss_gb() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * resource.getpagesize() / 2**30


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--settings", choices=sorted(SETTINGS), default="nab")
    parser.add_argument("--every", type=int, default=50_000, help="checkpoint interval")
    parser.add_argument("--max-rss-gb", type=float, default=16.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    tm = FastTemporalMemory(columns=2048, cells_per_column=32, **SETTINGS[args.settings])
    start = time.perf_counter()
    for step in range(1, args.steps + 1):
        tm.compute(np.sort(rng.choice(2048, size=40, replace=False)), learn=True)
        if step % args.every == 0 or step == args.steps:
            segments, synapses = tm.num_segments(), tm.num_synapses()
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
            print(
                f"{step:>9} steps {time.perf_counter() - start:8.1f} s  segments {segments:>9}"
                f"  synapses {synapses:>10}  rss {rss_gb():6.2f} GiB  peak {peak:6.2f} GiB",
                flush=True,
            )
            if rss_gb() > args.max_rss_gb:
                print("resident memory above --max-rss-gb; stopping", flush=True)
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
