"""Memory of the compiled temporal memories under 1,000,000 steps of random input.

Random input is the worst case: every column bursts every step, so every step creates new
segments (one per active column) until every cell holds ``max_segments_per_cell`` and the
least useful segment is dropped for each new one. Bounded memory means the segment and
synapse counts, and the process's resident memory, stop growing once the limits are reached.

    python benchmarks/htm_memory.py --steps 1000000 --settings tight
    python benchmarks/htm_memory.py --memory backtracking --steps 100000 --settings tight
    python benchmarks/htm_memory.py --steps 1000000 --settings nab --checkpoint mem.npz

Prints, at every report: steps, segments, synapses, resident set size now and at peak. Stops
early (exit 1) if the resident size passes ``--max-rss-gb``. A step costs in proportion to the
synapses of the bursting cells, which grow until the limits hold: with the ``nab`` limits (8.4
million segments) a step would cost ~45 ms here once they hold (extrapolated from the first
40,000 steps, where the cost grows in proportion to the segments), and a million steps take
about ten hours, so with ``--checkpoint`` the memory, the input generator and the peak so far
are saved atomically at every report and a rerun resumes from them; the peak printed is then
the largest over all the processes of the run (each process's own peak includes loading the
checkpoint). The ``tight`` limits (8 segments per cell) hold from about 15,000 steps and a
million steps take under an hour. The backtracking memory replays its recent inputs on every
unpredicted step, so it is several times slower still.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

from dendrix._io import load_state, save_state
from dendrix.htm.backtracking_tm import BacktrackingTemporalMemory
from dendrix.htm.temporal_memory_fast import FastTemporalMemory

MEMORIES = {"fast": FastTemporalMemory, "backtracking": BacktrackingTemporalMemory}
"""``fast``: the issue's temporal memory (compiled path); ``backtracking``: the NAB detector's."""

SETTINGS = {
    "default": {},
    "nab": {"max_segments_per_cell": 128, "max_synapses_per_segment": 32},
    "tight": {"max_segments_per_cell": 8, "max_synapses_per_segment": 32},
}
"""Limits on top of the acceptance interface's (255 and 255): ``nab``, the NAB detector's;
``tight``, the same with 8 segments per cell (costs: module docstring)."""


def rss_gb() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * resource.getpagesize() / 2**30


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--memory", choices=sorted(MEMORIES), default="fast")
    parser.add_argument("--settings", choices=sorted(SETTINGS), default="nab")
    parser.add_argument("--every", type=int, default=50_000, help="checkpoint interval")
    parser.add_argument("--max-rss-gb", type=float, default=16.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint", help="save here at every report; resume from it")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    tm = MEMORIES[args.memory](columns=2048, cells_per_column=32, **SETTINGS[args.settings])
    done, seconds, peak_before = 0, 0.0, 0.0
    if args.checkpoint and Path(args.checkpoint).exists():
        saved = load_state(args.checkpoint)
        run = (saved["memory"], saved["settings"], saved["seed"])
        if run != (args.memory, args.settings, args.seed):
            raise SystemExit(
                f"{args.checkpoint} is a run of memory, settings, seed {run}; delete it or "
                "pass the same --memory, --settings and --seed."
            )
        tm.load_state_dict(saved["temporal_memory"])
        rng.bit_generator.state = saved["input_rng"]
        done, seconds, peak_before = saved["steps"], saved["seconds"], saved["peak_gib"]
        print(f"resumed at {done} steps ({seconds:.0f} s, peak so far {peak_before:.2f} GiB)")
    start = time.perf_counter() - seconds
    for step in range(done + 1, args.steps + 1):
        tm.compute(np.sort(rng.choice(2048, size=40, replace=False)), learn=True)
        if step % args.every == 0 or step == args.steps:
            segments, synapses = tm.num_segments(), tm.num_synapses()
            peak = max(peak_before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20)
            elapsed = time.perf_counter() - start
            print(
                f"{step:>9} steps {elapsed:8.1f} s  segments {segments:>9}"
                f"  synapses {synapses:>10}  rss {rss_gb():6.2f} GiB  peak {peak:6.2f} GiB",
                flush=True,
            )
            if args.checkpoint:
                save_state(
                    args.checkpoint,
                    {
                        "memory": args.memory,
                        "settings": args.settings,
                        "seed": args.seed,
                        "steps": step,
                        "seconds": elapsed,
                        "peak_gib": peak,
                        "input_rng": rng.bit_generator.state,
                        "temporal_memory": tm.state_dict(),
                    },
                )
            if rss_gb() > args.max_rss_gb:
                print("resident memory above --max-rss-gb; stopping", flush=True)
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
