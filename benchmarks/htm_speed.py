"""Speed of the HTM temporal memories (reference, fast path, backtracking) and spatial pooler.

Temporal memory workload (the "C++ speed" acceptance target): 2048 columns x 32 cells, a
vocabulary of 100 random SDRs of 40 active columns, a fixed random sequence of 1000 symbols
played in a loop without reset, learning on. ``--settings default`` uses the memory's defaults,
``--settings nab`` the NAB detector's (128 segments per cell, 32 synapses per segment; the rest
equal to the defaults). Reported: steps/s over the timed steps (compilation of the fast path is
excluded by one untimed warm-up step on a separate memory), the mean anomaly over the last
1000 steps (identical for both implementations, which are bit-exact), and the final number of
segments and synapses. ``--implementation backtracking`` runs NuPIC's backtracking memory
(:mod:`dendrix.htm.backtracking_tm`, the NAB detector's default) on the same workload, with its
NAB parameters whatever ``--settings`` says (it is a different algorithm, so its anomaly differs).

Spatial pooler workload: ``SpatialPooler(1000, 2048, num_active_columns=40)``, inputs of 50
random active bits (a fresh input every step, from a pool of 1000), learning on, 5000 steps.

Pin to one core for the reported figures::

    taskset -c 0 python benchmarks/htm_speed.py --implementation fast --steps 20000
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from dendrix.htm.backtracking_tm import BacktrackingTemporalMemory
from dendrix.htm.spatial_pooler import SpatialPooler
from dendrix.htm.temporal_memory_fast import IMPLEMENTATIONS, make_temporal_memory

__all__ = ["NAB_SETTINGS", "main", "time_spatial_pooler", "time_temporal_memory"]

NAB_SETTINGS = dict(
    cells_per_column=32,
    activation_threshold=13,
    min_threshold=10,
    max_new_synapse_count=20,
    max_segments_per_cell=128,
    max_synapses_per_segment=32,
    initial_permanence=0.21,
    connected_permanence=0.5,
    permanence_increment=0.1,
    permanence_decrement=0.1,
    predicted_segment_decrement=0.0,
)
"""The NAB detector's temporal memory settings."""


def time_temporal_memory(
    implementation: str, steps: int, settings: str = "default", seed: int = 0
) -> dict[str, float]:
    """Run the temporal memory workload; returns steps/s, mean anomaly of the last 1000 steps,
    segments and synapses."""
    rng = np.random.default_rng(seed)
    vocabulary = [np.sort(rng.choice(2048, 40, replace=False)) for _ in range(100)]
    sequence = rng.integers(100, size=1000)
    kwargs = dict(columns=2048, **(NAB_SETTINGS if settings == "nab" else {}))

    def make() -> object:
        if implementation == "backtracking":
            return BacktrackingTemporalMemory(columns=2048)
        return make_temporal_memory(implementation, **kwargs)

    make().compute(vocabulary[0])  # compile, untimed
    tm = make()
    anomalies = np.zeros(steps)
    start = time.perf_counter()
    for t in range(steps):
        tm.compute(vocabulary[sequence[t % 1000]], learn=True)
        anomalies[t] = tm.anomaly
    elapsed = time.perf_counter() - start
    if implementation == "backtracking":
        segments, synapses = tm.num_segments(), tm.num_synapses()
    else:
        state = tm.state_dict()
        segments = state["connections.segment_ids"].size
        synapses = state["connections.synapse_segments"].size
    return {
        "steps_per_s": steps / elapsed,
        "mean_anomaly_last_1000": float(anomalies[-1000:].mean()),
        "segments": float(segments),
        "synapses": float(synapses),
    }


def time_spatial_pooler(steps: int = 5000, seed: int = 0) -> float:
    """Steps/s of the spatial pooler workload."""
    rng = np.random.default_rng(seed)
    inputs = [np.sort(rng.choice(1000, 50, replace=False)) for _ in range(1000)]
    sp = SpatialPooler(1000, 2048, num_active_columns=40, seed=1)
    start = time.perf_counter()
    for t in range(steps):
        sp.compute(inputs[t % len(inputs)], learn=True)
    return steps / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=20000, help="temporal memory steps")
    parser.add_argument(
        "--implementation",
        choices=[*IMPLEMENTATIONS, "backtracking", "both"],
        default="both",
        help="which TM ('both': reference and fast)",
    )
    parser.add_argument("--settings", choices=["default", "nab"], default="default")
    parser.add_argument("--sp-steps", type=int, default=5000, help="spatial pooler steps (0: skip)")
    args = parser.parse_args(argv)
    names = IMPLEMENTATIONS if args.implementation == "both" else (args.implementation,)
    for name in names:
        r = time_temporal_memory(name, args.steps, args.settings)
        print(
            f"temporal memory [{name}, {args.settings}] {args.steps} steps: "
            f"{r['steps_per_s']:.0f} steps/s, mean anomaly (last 1000) "
            f"{r['mean_anomaly_last_1000']!r}, {r['segments']:.0f} segments, "
            f"{r['synapses']:.0f} synapses",
            flush=True,
        )
    if args.sp_steps > 0:
        rate = time_spatial_pooler(args.sp_steps)
        print(f"spatial pooler 1000 -> 2048, 40 active, {args.sp_steps} steps: {rate:.0f} steps/s")


if __name__ == "__main__":
    main()
