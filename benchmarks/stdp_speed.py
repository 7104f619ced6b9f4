"""Speed of Diehl & Cook's unsupervised STDP network: dendrix vs BindsNET and Brian2.

Workload (issue 5): 784 Poisson inputs, 400 excitatory + 400 inhibitory neurons, dt = 0.5 ms,
350 ms presentation + 150 ms rest per image (1000 steps), learning on (STDP, adaptive
threshold, weight normalisation after every image), batch 1 as in the paper. Every library
simulates the *same* input spike trains: the first ``--images`` MNIST training images are
encoded once here (rate pixel/4 Hz, dendrix's ``DiehlCookNetwork.encode``) and handed to each
library, so the numbers measure the simulation, not the data pipeline. Reported: images/s over
the timed images, after one untimed warm-up image (numba compilation, Brian2 code generation).

- ``dendrix``: :class:`dendrix.plasticity.diehl_cook.DiehlCookNetwork` with the fused numba
  kernel (``backend="kernel"``), in this process; also timed with its Poisson draw included.
- ``dendrix-reference``: the same network through the readable torch loop
  (``backend="reference"``), fewer images.
- ``bindsnet``: BindsNET's ``DiehlAndCook2015`` model (its own current-based variant of the
  network), ``dt = 0.5``, ``network.run(inputs, time=500)`` per image with the input silent for
  the last 150 ms, an excitatory spike monitor and ``reset_state_variables()`` after each image,
  as in BindsNET's ``eth_mnist.py`` example. Runs in a subprocess of ``--bindsnet-python``
  (BindsNET 0.3 needs torch >= 2.14, so it lives in its own virtual environment).
- ``brian2``: Diehl & Cook's conductance-based equations and STDP rule written for Brian2, input
  through a ``SpikeGeneratorGroup`` holding the same spikes, one ``run(500 ms)`` per image and
  the weight normalisation in Python between images, as in Diehl & Cook's own script; runtime
  mode with Cython code generation (numpy if Cython fails). Runs in ``--brian2-python``.

Workers print one JSON line; nothing else is shared between the processes.

Peers live in throwaway virtual environments: ``pip install bindsnet`` (it pulls torch 2.14)
and ``pip install brian2 "numpy<2.4"`` (Brian2 2.9.0 fails to import with numpy 2.4). Use
``--threads 1`` on a shared machine: torch's default intra-op threads oversubscribe the cores
there and slow BindsNET down more than tenfold (dendrix's kernel is single-threaded)::

    python benchmarks/stdp_speed.py --images 21 --threads 1 \\
        --bindsnet-python /tmp/bnvenv/bin/python --brian2-python /tmp/b2venv/bin/python \\
        --json stdp_speed.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

__all__ = ["main"]

N_INPUT = 784


# ---------------------------------------------------------------------------------------------
# The shared input
# ---------------------------------------------------------------------------------------------
def draw_inputs(images: int, neurons: int, args: argparse.Namespace) -> tuple[list, np.ndarray]:
    """Encode the first ``images`` MNIST training images once: dendrix ``InputSpikes`` and the
    same spikes as a dense uint8 array ``[images, T, 784]``."""
    import torch

    from dendrix.data.idx import load_mnist
    from dendrix.plasticity.diehl_cook import DiehlCookConfig, DiehlCookNetwork

    x, _ = load_mnist("mnist", "train")
    config = DiehlCookConfig(
        n_exc=neurons, dt=args.dt, t_present=args.t_present, t_rest=args.t_rest
    )
    encoder = DiehlCookNetwork(config, generator=torch.Generator().manual_seed(args.seed))
    g = torch.Generator().manual_seed(args.seed + 1)
    spikes = [encoder.encode(x[k], config.intensity, g) for k in range(images)]
    dense = np.stack([s.dense(N_INPUT, torch.uint8).numpy() for s in spikes])
    return spikes, dense


# ---------------------------------------------------------------------------------------------
# dendrix (this process)
# ---------------------------------------------------------------------------------------------
def time_dendrix(spikes: list, neurons: int, backend: str, args: argparse.Namespace) -> dict:
    import torch

    from dendrix.data.idx import load_mnist
    from dendrix.plasticity.diehl_cook import DiehlCookConfig, DiehlCookNetwork

    config = DiehlCookConfig(
        n_exc=neurons, dt=args.dt, t_present=args.t_present, t_rest=args.t_rest
    )
    net = DiehlCookNetwork(config, generator=torch.Generator().manual_seed(args.seed))
    net.run(spikes[0], learn=True, backend=backend)  # warm-up: numba compile / load from cache
    timed = spikes[1:]
    start = time.perf_counter()
    total = 0
    for s in timed:
        total += int(net.run(s, learn=True, backend=backend).sum())
    elapsed = time.perf_counter() - start
    out = {
        "images_per_s": len(timed) / elapsed,
        "images": len(timed),
        "exc_spikes_per_image": total / len(timed),
    }
    if backend == "kernel":  # the same, with the Poisson draw of each image included
        x, _ = load_mnist("mnist", "train")
        g = torch.Generator().manual_seed(args.seed + 1)
        start = time.perf_counter()
        for k in range(1, len(spikes)):
            net.run(net.encode(x[k], config.intensity, g), learn=True)
        out["images_per_s_with_encoding"] = (len(spikes) - 1) / (time.perf_counter() - start)
    return out


# ---------------------------------------------------------------------------------------------
# Workers (run in the peers' own interpreters; numpy and the peer only)
# ---------------------------------------------------------------------------------------------
def worker_bindsnet(dense: np.ndarray, neurons: int, args: argparse.Namespace) -> dict:
    from importlib.metadata import version

    import torch
    from bindsnet.models import DiehlAndCook2015
    from bindsnet.network.monitors import Monitor

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    dt_ms = args.dt * 1e3
    time_ms = (args.t_present + args.t_rest) * 1e3
    steps = round(time_ms / dt_ms)
    net = DiehlAndCook2015(
        n_inpt=N_INPUT,
        n_neurons=neurons,
        dt=dt_ms,
        norm=78.4,
        nu=(1e-4, 1e-2),
        theta_plus=0.05,
        inpt_shape=(1, 28, 28),
    )
    monitor = Monitor(net.layers["Ae"], state_vars=["s"], time=steps)
    net.add_monitor(monitor, name="Ae_spikes")
    rest = np.zeros((steps - dense.shape[1], N_INPUT), dtype=np.uint8)

    def one(spikes: np.ndarray) -> int:
        x = torch.from_numpy(np.concatenate([spikes, rest])).bool().view(steps, 1, 1, 28, 28)
        net.run(inputs={"X": x}, time=time_ms)
        count = int(monitor.get("s").sum())
        net.reset_state_variables()
        return count

    one(dense[0])  # warm-up
    start = time.perf_counter()
    total = sum(one(s) for s in dense[1:])
    elapsed = time.perf_counter() - start
    return {
        "images_per_s": (len(dense) - 1) / elapsed,
        "images": len(dense) - 1,
        "exc_spikes_per_image": total / (len(dense) - 1),
        "version": f"bindsnet {version('bindsnet')}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads",
    }


BRIAN2_EXC = """
dv/dt = ((v_rest_e - v) + ge * (-v) + gi * (-100.*mV - v)) / (100*ms) : volt (unless refractory)
dge/dt = -ge / (1.0*ms) : 1
dgi/dt = -gi / (2.0*ms) : 1
dtheta/dt = -theta / (1e7*ms) : volt
"""
BRIAN2_INH = """
dv/dt = ((v_rest_i - v) + ge * (-v) + gi * (-85.*mV - v)) / (10*ms) : volt (unless refractory)
dge/dt = -ge / (1.0*ms) : 1
dgi/dt = -gi / (2.0*ms) : 1
"""
BRIAN2_STDP = """
w : 1
dpre/dt = -pre / (20*ms) : 1 (event-driven)
dpost1/dt = -post1 / (20*ms) : 1 (event-driven)
dpost2/dt = -post2 / (40*ms) : 1 (event-driven)
"""


def worker_brian2(dense: np.ndarray, neurons: int, args: argparse.Namespace) -> dict:
    import brian2 as b2

    target = "cython"
    try:  # a tiny network compiles or tells us there is no working compiler
        b2.prefs.codegen.target = "cython"
        b2.Network(b2.NeuronGroup(1, "dv/dt = -v / (10*ms) : 1")).run(b2.defaultclock.dt)
    except Exception:
        target = "numpy"
        b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = args.dt * b2.second
    ns = {
        "v_rest_e": -65 * b2.mV, "v_reset_e": -65 * b2.mV, "v_thresh_e": -52 * b2.mV,
        "v_rest_i": -60 * b2.mV, "v_reset_i": -45 * b2.mV, "v_thresh_i": -40 * b2.mV,
        "offset": 20 * b2.mV, "theta_plus": 0.05 * b2.mV,
        "nu_pre": 1e-4, "nu_post": 1e-2, "wmax": 1.0,
    }  # fmt: skip
    exc = b2.NeuronGroup(
        neurons, BRIAN2_EXC, threshold="v > (theta - offset + v_thresh_e)",
        reset="v = v_reset_e; theta += theta_plus", refractory=5 * b2.ms, method="euler",
        namespace=ns,
    )  # fmt: skip
    inh = b2.NeuronGroup(
        neurons, BRIAN2_INH, threshold="v > v_thresh_i", reset="v = v_reset_i",
        refractory=2 * b2.ms, method="euler", namespace=ns,
    )  # fmt: skip
    exc.v, inh.v, exc.theta = -105 * b2.mV, -100 * b2.mV, 20 * b2.mV
    inputs = b2.SpikeGeneratorGroup(N_INPUT, [], [] * b2.ms)
    syn = b2.Synapses(
        inputs, exc, BRIAN2_STDP,
        on_pre="ge_post += w\npre = 1.\nw = clip(w - nu_pre * post1, 0, wmax)",
        on_post="w = clip(w + nu_post * pre * post2, 0, wmax)\npost1 = 1.\npost2 = 1.",
        namespace=ns,
    )  # fmt: skip
    syn.connect()
    rng = np.random.default_rng(args.seed)
    syn.w = (rng.random(N_INPUT * neurons) + 0.01) * 0.3
    ei = b2.Synapses(exc, inh, on_pre="ge_post += 10.4")
    ei.connect(j="i")
    ie = b2.Synapses(inh, exc, on_pre="gi_post += 17.0")
    ie.connect(condition="i != j")
    counter = b2.SpikeMonitor(exc, record=False)
    net = b2.Network(exc, inh, inputs, syn, ei, ie, counter)
    period = (args.t_present + args.t_rest) * b2.second

    def normalise() -> None:
        w = np.asarray(syn.w[:]).reshape(N_INPUT, neurons)  # connect() orders by (i, j)
        syn.w[:] = (w * (78.4 / w.sum(0))).ravel()

    def one(spikes: np.ndarray) -> int:
        normalise()
        t_idx, i_idx = np.nonzero(spikes)
        before = int(counter.num_spikes)
        inputs.set_spikes(i_idx, (t_idx * args.dt) * b2.second + net.t)
        net.run(period)
        return int(counter.num_spikes) - before

    one(dense[0])  # warm-up (code generation and compilation)
    start = time.perf_counter()
    total = sum(one(s) for s in dense[1:])
    elapsed = time.perf_counter() - start
    return {
        "images_per_s": (len(dense) - 1) / elapsed,
        "images": len(dense) - 1,
        "exc_spikes_per_image": total / (len(dense) - 1),
        "version": f"brian2 {b2.__version__}, runtime mode, {target} code generation",
    }


WORKERS = {"bindsnet": worker_bindsnet, "brian2": worker_brian2}


def run_worker(library: str, python: str, path: Path, args: argparse.Namespace) -> dict:
    """Run ``library``'s worker in ``python``; return its JSON line or an error record."""
    command = [
        python, __file__, "--worker", library, "--spikes", str(path),
        "--neurons", str(args.neurons), "--dt", str(args.dt), "--t-present", str(args.t_present),
        "--t-rest", str(args.t_rest), "--seed", str(args.seed),
    ] + (["--threads", str(args.threads)] if args.threads else [])  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=args.worker_timeout
    )
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return {"error": " | ".join(tail) or f"exit code {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=21, help="images per library (1 warm-up)")
    parser.add_argument("--reference-images", type=int, default=4, help="for dendrix-reference")
    parser.add_argument("--neurons", type=int, default=400)
    parser.add_argument("--dt", type=float, default=0.5e-3, help="seconds")
    parser.add_argument("--t-present", type=float, default=0.35, help="seconds")
    parser.add_argument("--t-rest", type=float, default=0.15, help="seconds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--bindsnet-python", default=None, help="interpreter with bindsnet")
    parser.add_argument("--brian2-python", default=None, help="interpreter with brian2")
    parser.add_argument("--worker-timeout", type=float, default=3600.0, help="seconds")
    parser.add_argument("--json", default=None, help="also write the results to this file")
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--spikes", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:  # inside a peer's interpreter
        dense = np.load(args.spikes)["spikes"]
        print(json.dumps(WORKERS[args.worker](dense, args.neurons, args)))
        return {}

    import torch

    from dendrix._io import machine_description

    if args.threads:
        torch.set_num_threads(args.threads)
    spikes, dense = draw_inputs(max(args.images, args.reference_images), args.neurons, args)
    results: dict[str, dict] = {}
    results["dendrix"] = time_dendrix(spikes[: args.images], args.neurons, "kernel", args)
    results["dendrix-reference"] = time_dendrix(
        spikes[: args.reference_images], args.neurons, "reference", args
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "spikes.npz"
        np.savez(path, spikes=dense[: args.images])
        for library, python in (("bindsnet", args.bindsnet_python), ("brian2", args.brian2_python)):
            if python:
                results[library] = run_worker(library, python, path, args)
            else:
                results[library] = {"error": f"not run (give --{library}-python)"}
    record = {
        "workload": {
            "neurons": args.neurons,
            "inputs": N_INPUT,
            "dt_s": args.dt,
            "t_present_s": args.t_present,
            "t_rest_s": args.t_rest,
            "images": args.images - 1,
            "learning": True,
        },
        "machine": machine_description(),
        "load_average": os.getloadavg(),
        "torch_threads": torch.get_num_threads(),
        "results": results,
    }
    base = results["dendrix"]["images_per_s"]
    print(
        f"Diehl & Cook, {args.neurons} neurons, dt {args.dt * 1e3:g} ms, "
        f"{args.t_present * 1e3:g} + {args.t_rest * 1e3:g} ms per image, learning on"
    )
    print(f"{record['machine']}; load average {record['load_average'][0]:.1f}")
    print(f"{'library':<20} {'images/s':>10} {'dendrix is':>12}  notes")
    for name, res in results.items():
        if "error" in res:
            print(f"{name:<20} {'-':>10} {'':>12}  {res['error']}")
            continue
        ratio = base / res["images_per_s"]
        note = res.get("version", "")
        if "images_per_s_with_encoding" in res:
            note = f"{res['images_per_s_with_encoding']:.1f} images/s with the Poisson draw"
        print(f"{name:<20} {res['images_per_s']:>10.2f} {ratio:>11.1f}x  {note}")
    if args.json:
        Path(args.json).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record


if __name__ == "__main__":
    main(sys.argv[1:])
