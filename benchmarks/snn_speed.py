"""Speed of one Linear + LIF layer (forward + backward) in dendrix and other spiking libraries.

The community benchmark, run fairly: one ``nn.Linear(n, n)`` then one layer of LIF neurons,
float32, time-major ``[T, B, n]``, forward then backward of ``out.sum()``. Every library gets
the same input tensor and the same Linear weights, simulates all ``T`` steps, and has the
Linear applied to the whole sequence at once (``x.reshape(T * B, n)``); the libraries differ
only in the neuron layer. All libraries run in one process, interleaved repeat by repeat so
that a busy machine slows them alike; a library that is not installed is reported as such.

Neuron model (matched as closely as each library allows): decay
:math:`\\beta = e^{-dt/\\tau}` with ``tau = 10 ms``, ``dt = 1 ms``; threshold 1; reset by
subtraction; a fast-sigmoid surrogate of slope 10. Per library:

* ``dendrix``: ``LIF(n, tau_mem=tau, v_th=1, reset="subtract", dt=dt,
  surrogate=FastSigmoid(alpha=10), return_state=False, backend="auto")`` on the sequence.
* ``plain``: the same module with ``backend="reference"``, the plain per-step PyTorch loop.
* ``snntorch``: ``snn.Leaky(beta, threshold=1, spike_grad=fast_sigmoid(slope=10),
  init_hidden=False, reset_mechanism="subtract", reset_delay=False)`` called step by step in a
  Python loop, as its tutorials do (``reset_delay=False`` applies the reset in the step that
  spiked, as the others do; snnTorch's default delays it by one step).
* ``spikingjelly``: ``neuron.LIFNode(tau=1/(1-beta), decay_input=False, v_reset=None,
  surrogate_function=SoftSign(alpha=10), step_mode="m")``, its multi-step path (registered
  ``sj_lif`` operator; on CUDA it selects its own fastest kernel, on CPU its one CPU
  implementation). ``v += (x - v)/tau`` becomes ``v = (1 - 1/tau) v + x`` with
  ``decay_input=False``, so this ``tau`` gives the same decay. SoftSign's derivative
  ``alpha/2 / (1 + alpha|u|)^2`` is the fast sigmoid's times ``alpha/2``.
* ``norse``: the ``norse.torch.LIF`` sequence module. Norse's LIF is current-based with Euler
  steps: ``tau_syn_inv = 1/dt`` makes the synaptic current equal the input of the step,
  ``tau_mem_inv = (1 - beta)/dt`` gives the same decay, and the threshold ``1 - beta`` (with
  SuperSpike ``alpha = 10/(1 - beta)``) puts the membrane in the others' units. Norse resets
  to ``v_reset = 0`` (its LIF has no reset by subtraction), so it spikes somewhat less, and
  its SuperSpike derivative is ``1/(1 + |u|)^2`` whatever ``alpha``.
* ``linear``: the Linear alone (forward + backward of its output's sum), the floor every
  library pays; a library's neuron layer costs roughly its time minus this.

Reported per library and size: median and minimum time of one forward + backward (ms), the
ratio of the median to dendrix's, peak memory of one forward + backward (MiB: on CUDA
``max_memory_allocated`` above the memory held before; on CPU the peak resident-set increase
measured in a fresh subprocess per library and size, with glibc's mmap threshold fixed at
64 KiB so that freed memory leaves the resident set), and the forward's spike count and rate
(equal work). A hand-written loop gives the spike count the exact model must produce.

    python benchmarks/snn_speed.py --json --out snn_speed.json
    python benchmarks/snn_speed.py --device cuda   # T=500, B=16, n = 4096, 8192, 16384
"""

from __future__ import annotations

import argparse
import gc
import inspect
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from importlib import metadata
from typing import Any

import torch
from torch import Tensor, nn

from dendrix._io import machine_description

__all__ = ["LIBRARIES", "Workload", "build", "handwritten_lif", "main", "run_config"]

LIBRARIES = ("dendrix", "plain", "snntorch", "spikingjelly", "norse", "linear")
"""Library keys; ``plain`` is dendrix's LIF with ``backend="reference"`` (plain PyTorch loop),
``linear`` the Linear alone (no neurons): the floor every library pays."""

LABELS = {
    "dendrix": "dendrix (fused)",
    "plain": "plain PyTorch loop",
    "snntorch": "snnTorch",
    "spikingjelly": "SpikingJelly",
    "norse": "Norse",
    "linear": "Linear alone",
}
DISTRIBUTIONS = {
    "dendrix": "dendrix",
    "plain": "dendrix",
    "snntorch": "snntorch",
    "spikingjelly": "spikingjelly",
    "norse": "norse",
    "linear": "torch",
}
DEFAULTS = {
    "cpu": {"steps": 100, "batch": 32, "sizes": [512, 1024, 2048]},
    "cuda": {"steps": 500, "batch": 16, "sizes": [4096, 8192, 16384]},
}
TAU, DT, V_TH, SLOPE = 10e-3, 1e-3, 1.0, 10.0
MMAP_THRESHOLD = 65536
"""glibc ``MALLOC_MMAP_THRESHOLD_`` (bytes) of the CPU memory probes."""


class NotInstalled(Exception):
    """The library cannot be imported."""


class Workload(nn.Module):
    """``Linear`` on the whole sequence, then one library's LIF layer; ``forward(x) -> spikes``."""

    def __init__(self, linear: nn.Linear, neuron: nn.Module, run: Callable[[Tensor], Tensor]):
        super().__init__()
        self.linear = linear
        self.neuron = neuron
        self._run = run

    def forward(self, x: Tensor) -> Tensor:
        t, b, n = x.shape
        current = self.linear(x.reshape(t * b, n)).reshape(t, b, n)
        return self._run(current)


def beta_value() -> float:
    """The decay per step, computed as dendrix does (float32 ``exp(-dt / tau)``)."""
    return float(torch.exp(-DT / torch.tensor(TAU, dtype=torch.float32)))


def _dendrix(linear: nn.Linear, n: int, backend: str) -> tuple[Workload, str]:
    try:
        from dendrix.spiking import LIF
        from dendrix.spiking.surrogate import FastSigmoid
    except ImportError as error:
        raise NotInstalled(str(error)) from error
    lif = LIF(
        n,
        tau_mem=TAU,
        v_th=V_TH,
        reset="subtract",
        dt=DT,
        surrogate=FastSigmoid(alpha=SLOPE),
        return_state=False,
        backend=backend,
    )
    how = (
        f"dendrix.spiking.LIF(tau_mem={TAU}, v_th={V_TH}, reset='subtract', dt={DT}, "
        f"surrogate=FastSigmoid(alpha={SLOPE}), backend={backend!r}) on [T, B, n]"
    )
    return Workload(linear, lif, lif), how


def _snntorch(linear: nn.Linear, n: int) -> tuple[Workload, str]:
    try:
        import snntorch
        from snntorch import surrogate
    except ImportError as error:
        raise NotInstalled(str(error)) from error
    beta = beta_value()
    leaky = snntorch.Leaky(
        beta=beta,
        threshold=V_TH,
        spike_grad=surrogate.fast_sigmoid(slope=SLOPE),
        init_hidden=False,
        reset_mechanism="subtract",
        reset_delay=False,
    )

    def run(current: Tensor) -> Tensor:
        mem = leaky.init_leaky()
        spikes = []
        for step in range(current.shape[0]):
            spk, mem = leaky(current[step], mem)
            spikes.append(spk)
        return torch.stack(spikes)

    how = (
        f"snntorch.Leaky(beta={beta:.6f}, threshold={V_TH}, spike_grad=fast_sigmoid(slope="
        f"{SLOPE}), init_hidden=False, reset_mechanism='subtract', reset_delay=False), "
        "Python loop over T (Linear applied to the whole sequence first)"
    )
    return Workload(linear, leaky, run), how


def _spikingjelly(linear: nn.Linear, n: int, device: torch.device) -> tuple[Workload, str]:
    try:
        from spikingjelly.activation_based import functional, neuron, surrogate
    except ImportError as error:
        raise NotInstalled(str(error)) from error
    tau = 1.0 / (1.0 - beta_value())
    node = neuron.LIFNode(
        tau=tau,
        decay_input=False,
        v_threshold=V_TH,
        v_reset=None,
        surrogate_function=surrogate.SoftSign(alpha=SLOPE),
        detach_reset=False,
        step_mode="m",
    )

    def run(current: Tensor) -> Tensor:
        functional.reset_net(node)
        return node(current)

    try:
        implementation = functional.neuron_implementation("lif", device)["implementation"]
    except Exception as error:  # diagnostics only; the node itself chooses
        implementation = f"unknown ({type(error).__name__})"
    how = (
        f"spikingjelly LIFNode(tau={tau:.4f}, decay_input=False, v_threshold={V_TH}, "
        f"v_reset=None, surrogate=SoftSign(alpha={SLOPE}), step_mode='m'); "
        f"implementation on {device.type}: {implementation}"
    )
    return Workload(linear, node, run), how


def _norse(linear: nn.Linear, n: int) -> tuple[Workload, str]:
    try:
        import norse.torch as norse
    except ImportError as error:
        raise NotInstalled(str(error)) from error
    a = 1.0 - beta_value()
    p = norse.LIFParameters(
        tau_syn_inv=torch.as_tensor(1.0 / DT),
        tau_mem_inv=torch.as_tensor(a / DT),
        v_leak=torch.as_tensor(0.0),
        v_th=torch.as_tensor(V_TH * a),
        v_reset=torch.as_tensor(0.0),
        method="super",
        alpha=torch.as_tensor(SLOPE / a),
    )
    lif = norse.LIF(p, dt=DT)

    def run(current: Tensor) -> Tensor:
        spikes, _ = lif(current)
        return spikes

    how = (
        f"norse.torch.LIF(LIFParameters(tau_syn_inv=1/dt, tau_mem_inv={a / DT:.3f}, "
        f"v_th={V_TH * a:.6f}, v_reset=0, method='super', alpha={SLOPE / a:.2f}), dt={DT}) "
        "on [T, B, n]; reset to zero (no subtractive reset in Norse's LIF)"
    )
    return Workload(linear, lif, run), how


def build(library: str, linear: nn.Linear, n: int, device: torch.device) -> tuple[Workload, str]:
    """The workload of ``library`` around (a copy of) ``linear``, and how it is configured.

    Raises :class:`NotInstalled` when the library cannot be imported.
    """
    linear = _copy_linear(linear)
    if library == "dendrix":
        work, how = _dendrix(linear, n, "auto")
    elif library == "plain":
        work, how = _dendrix(linear, n, "reference")
    elif library == "snntorch":
        work, how = _snntorch(linear, n)
    elif library == "spikingjelly":
        work, how = _spikingjelly(linear, n, device)
    elif library == "norse":
        work, how = _norse(linear, n)
    elif library == "linear":
        identity = nn.Identity()
        work, how = Workload(linear, identity, identity), "the Linear alone, no neuron layer"
    else:
        raise ValueError(f"unknown library {library!r}; choose from {LIBRARIES}.")
    return work.to(device), how


def _copy_linear(linear: nn.Linear) -> nn.Linear:
    copy = nn.Linear(linear.in_features, linear.out_features, device=linear.weight.device)
    copy.load_state_dict(linear.state_dict())
    return copy


def make_inputs(
    steps: int, batch: int, n: int, scale: float, seed: int, device: torch.device
) -> tuple[Tensor, nn.Linear]:
    """The shared input ``rand(T, B, n) * scale`` and Linear (default init), both seeded."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(steps, batch, n, generator=gen) * scale
    torch.manual_seed(seed + 1)
    linear = nn.Linear(n, n)
    return x.to(device), linear.to(device)


@torch.no_grad()
def handwritten_lif(current: Tensor, beta: float, v_th: float = V_TH) -> Tensor:
    """The exact model in plain PyTorch: ``h = beta v + I; z = [h >= v_th]; v = h - z v_th``."""
    v = torch.zeros_like(current[0])
    spikes = []
    for x in current:
        h = beta * v + x
        z = (h >= v_th).to(h.dtype)
        v = h - z * v_th
        spikes.append(z)
    return torch.stack(spikes)


def _dendrix_backend(lif: nn.Module, x: Tensor) -> str:
    """The kernel backend dendrix's dispatcher picks for this call (diagnostics only)."""
    try:
        from dendrix.spiking.kernels.dispatch import resolve_backend

        args = [x, lif.initial_state(x[0]), lif.params()]
        if "dt" in inspect.signature(resolve_backend).parameters:
            args.append(lif.dt)
        return resolve_backend(*args, backend=lif.backend)
    except Exception as error:
        return f"unknown ({type(error).__name__})"


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _iteration(work: Workload, x: Tensor, device: torch.device) -> tuple[float, Tensor]:
    """One forward + backward of ``out.sum()``; returns seconds and the (detached) spikes."""
    work.zero_grad(set_to_none=True)
    _sync(device)
    start = time.perf_counter()
    out = work(x)
    out.sum().backward()
    _sync(device)
    return time.perf_counter() - start, out.detach()


def _cuda_peak_mib(work: Workload, x: Tensor, device: torch.device) -> float:
    work.zero_grad(set_to_none=True)
    gc.collect()
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    before = torch.cuda.memory_allocated(device)
    _iteration(work, x, device)
    return (torch.cuda.max_memory_allocated(device) - before) / 2**20


def _rss_kib() -> tuple[int, int]:
    """Current and peak resident set size of this process (KiB) from /proc/self/status."""
    now = peak = 0
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                now = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1])
    return now, peak


def memory_probe(library: str, steps: int, batch: int, n: int, scale: float, seed: int) -> float:
    """Peak resident-set increase (MiB) of one CPU forward + backward, run in this process.

    The workload is first run on a tiny sequence (imports, kernel compilation and lazy set-up
    are not counted); then the peak is reset (``/proc/self/clear_refs``; where that is refused
    the ``ru_maxrss`` high-water mark is used, which can only under-count) and one full
    forward + backward is measured against the resident size just before it.
    """
    device = torch.device("cpu")
    x, linear = make_inputs(steps, batch, n, scale, seed, device)
    work, _ = build(library, linear, n, device)
    _iteration(work, x[:2, :1].contiguous(), device)
    work.zero_grad(set_to_none=True)
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        before, _ = _rss_kib()
        _iteration(work, x, device)
        _, peak = _rss_kib()
    except OSError:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        _iteration(work, x, device)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return max(peak - before, 0) / 1024


def _cpu_peak_mib(library: str, args: argparse.Namespace, n: int) -> float | str:
    command = [
        sys.executable,
        __file__,
        "--memory-probe",
        library,
        "--sizes",
        str(n),
        "--steps",
        str(args.steps),
        "--batch",
        str(args.batch),
        "--scale",
        str(args.scale),
        "--seed",
        str(args.seed),
        "--device",
        "cpu",
        "--threads",
        str(torch.get_num_threads()),
    ]
    # A fixed mmap threshold makes glibc return every large block to the system when it is
    # freed, so the resident size follows the live memory (glibc's adaptive threshold otherwise
    # keeps freed blocks on the heap, and the figure then depends on the process's history).
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_=str(MMAP_THRESHOLD))
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        return "error: " + (done.stderr.strip().splitlines() or ["?"])[-1]
    return float(json.loads(done.stdout.strip().splitlines()[-1])["peak_mib"])


def run_config(
    libraries: list[str],
    steps: int,
    batch: int,
    n: int,
    args: argparse.Namespace,
    device: torch.device,
    how: dict[str, str],
) -> dict[str, Any]:
    """Time every library on one size; returns the config's results (and fills ``how``)."""
    x, linear = make_inputs(steps, batch, n, args.scale, args.seed, device)
    with torch.no_grad():
        current = linear(x.reshape(steps * batch, n)).reshape(steps, batch, n)
    expected = handwritten_lif(current, beta_value())
    del current
    results: dict[str, Any] = {}
    works: dict[str, Workload] = {}
    for library in libraries:
        try:
            work, how[library] = build(library, linear, n, device)
            if library in ("dendrix", "plain"):
                how[library] += f"; runs backend {_dendrix_backend(work.neuron, x)!r}"
            spikes = None
            for _ in range(args.warmup):
                _, spikes = _iteration(work, x, device)
        except NotInstalled as error:
            results[library] = {"status": "not installed", "detail": str(error)}
            continue
        except Exception as error:  # one broken library must not stop the others
            results[library] = {"status": f"error: {type(error).__name__}: {error}"}
            continue
        count = float(spikes.sum()) if library != "linear" else None
        results[library] = {
            "status": "ok",
            "spikes": count,
            "spike_rate": count / spikes.numel() if count is not None else None,
            "spikes_equal_handwritten": (
                bool(torch.equal(spikes, expected)) if count is not None else None
            ),
            "times_ms": [],
        }
        works[library] = work
        del spikes
    names = list(works)
    for repeat in range(args.repeats):  # interleaved, start rotating, so load hits all alike
        for library in names[repeat % len(names) :] + names[: repeat % len(names)]:
            seconds, _ = _iteration(works[library], x, device)
            results[library]["times_ms"].append(seconds * 1e3)
    for library in names:
        r = results[library]
        r["median_ms"] = statistics.median(r["times_ms"])
        r["min_ms"] = min(r["times_ms"])
    base = results.get("dendrix", {}).get("median_ms")
    for library in names:
        r = results[library]
        r["ratio_to_dendrix"] = r["median_ms"] / base if base else None
        if args.no_memory:
            r["peak_mib"] = None
        elif device.type == "cuda":
            r["peak_mib"] = _cuda_peak_mib(works[library], x, device)
        else:
            r["peak_mib"] = _cpu_peak_mib(library, args, n)
    count = float(expected.sum())
    return {
        "steps": steps,
        "batch": batch,
        "n": n,
        "handwritten_spikes": count,
        "handwritten_spike_rate": count / expected.numel(),
        "results": results,
    }


def _numba_threads(threads: int | None = None) -> int | None:
    """Set (when given) and return numba's thread count (dendrix's CPU kernels); None without
    numba."""
    try:
        import numba
    except ImportError:
        return None
    if threads is not None:
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    return numba.get_num_threads()


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _version(library: str) -> str | None:
    try:
        return metadata.version(DISTRIBUTIONS[library])
    except metadata.PackageNotFoundError:
        return None


def _fmt(value: Any, spec: str) -> str:
    return format(value, spec) if isinstance(value, (int, float)) else "-"


def print_table(config: dict[str, Any], libraries: list[str]) -> None:
    t, b, n = config["steps"], config["batch"], config["n"]
    print(
        f"\nT={t} B={b} n={n}   (hand-written loop: {config['handwritten_spikes']:.0f} spikes, "
        f"rate {config['handwritten_spike_rate']:.4f})"
    )
    print(
        f"{'library':<20}{'median ms':>11}{'min ms':>10}{'x dendrix':>11}{'peak MiB':>10}"
        f"{'spikes':>12}{'rate':>8}  same as hand-written"
    )
    for library in libraries:
        r = config["results"][library]
        if r["status"] != "ok":
            print(f"{LABELS[library]:<20}{r['status']}")
            continue
        memory = r["peak_mib"]
        print(
            f"{LABELS[library]:<20}{r['median_ms']:>11.1f}{r['min_ms']:>10.1f}"
            f"{_fmt(r['ratio_to_dendrix'], '.2f'):>11}"
            f"{_fmt(memory, '.0f') if not isinstance(memory, str) else 'error':>10}"
            f"{_fmt(r['spikes'], '.0f'):>12}{_fmt(r['spike_rate'], '.4f'):>8}  "
            f"{_fmt(r['spikes_equal_handwritten'], '') if r['spikes'] is not None else '-'}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--libraries",
        default=",".join(LIBRARIES),
        help=f"comma-separated, from {', '.join(LIBRARIES)} (default: all)",
    )
    parser.add_argument("--sizes", default=None, help="comma-separated n (default per device)")
    parser.add_argument("--steps", type=int, default=None, help="T (default: 100 CPU, 500 CUDA)")
    parser.add_argument("--batch", type=int, default=None, help="B (default: 32 CPU, 16 CUDA)")
    parser.add_argument("--repeats", type=int, default=10, help="timed runs per library")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs per library")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--scale", type=float, default=1.0, help="input = rand(T, B, n) * scale")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-memory", action="store_true", help="skip the memory measurement")
    parser.add_argument("--json", action="store_true", help="also write the results as JSON")
    parser.add_argument("--out", default="snn_speed.json", help="JSON path (with --json)")
    parser.add_argument("--memory-probe", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=FutureWarning)

    if args.threads is not None:
        torch.set_num_threads(args.threads)
        _numba_threads(args.threads)
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda but CUDA is not available")
    device = torch.device(args.device)
    defaults = DEFAULTS[device.type]
    args.steps = args.steps if args.steps is not None else defaults["steps"]
    args.batch = args.batch if args.batch is not None else defaults["batch"]
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else defaults["sizes"]

    if args.memory_probe is not None:
        mib = memory_probe(
            args.memory_probe, args.steps, args.batch, sizes[0], args.scale, args.seed
        )
        print(json.dumps({"peak_mib": mib}))
        return

    libraries = [s.strip() for s in args.libraries.split(",") if s.strip()]
    unknown = sorted(set(libraries) - set(LIBRARIES))
    if unknown:
        parser.error(f"unknown libraries {unknown}; choose from {', '.join(LIBRARIES)}")
    print(
        f"{machine_description()}; {_cpu_name()}; torch threads {torch.get_num_threads()}, "
        f"numba threads {_numba_threads()}"
    )
    print(
        f"Linear(n, n) + LIF, float32, forward + backward of out.sum(), device {device}, "
        f"beta {beta_value():.6f}, input rand(T, B, n) * {args.scale}; "
        f"{args.warmup} warm-up + {args.repeats} timed runs, interleaved"
    )
    how: dict[str, str] = {}
    configs = []
    for n in sizes:
        config = run_config(libraries, args.steps, args.batch, n, args, device, how)
        configs.append(config)
        print_table(config, libraries)
    print("\nConfiguration:")
    for library in libraries:
        print(f"  {LABELS[library]}: {how.get(library, 'not run')}")
    if args.json:
        report = {
            "benchmark": "Linear(n, n) + LIF, float32, forward + backward of out.sum()",
            "command": " ".join([sys.executable, *sys.argv]),
            "machine": machine_description(),
            "cpu": _cpu_name(),
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "numba_threads": _numba_threads(),
            "device": str(device),
            "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
            "beta": beta_value(),
            "tau_s": TAU,
            "dt_s": DT,
            "v_th": V_TH,
            "surrogate_slope": SLOPE,
            "scale": args.scale,
            "seed": args.seed,
            "warmup": args.warmup,
            "repeats": args.repeats,
            "memory": (
                None
                if args.no_memory
                else "torch.cuda.max_memory_allocated above the memory held before, MiB"
                if device.type == "cuda"
                else "peak resident-set increase of one forward + backward in a fresh process "
                f"(MALLOC_MMAP_THRESHOLD_={MMAP_THRESHOLD}), MiB"
            ),
            "libraries": {
                library: {
                    "label": LABELS[library],
                    "version": _version(library),
                    "configuration": how.get(library),
                }
                for library in libraries
            },
            "configs": configs,
        }
        with open(args.out, "w") as fh:
            json.dump(report, fh, indent=2)
        print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
