r"""Recipe ``elm-long-horizon``: the ELM neuron against an LSTM of similar size on the adding
problem, a task whose answer depends on inputs hundreds of steps back.

Task (the adding problem of Hochreiter & Schmidhuber 1997, in the form of Le et al. 2015)::

    x_t = (v_t, k_t),  t = 1 .. T       v_t ~ U(0, 1); k_t in {0, 1} marks exactly two steps,
                                        one drawn uniformly from the first half, one from the
                                        second half
    y   = sum_t k_t v_t                 target: the sum of the two marked values, read at t = T

Loss and metric: mean squared error of the prediction at the last step. Predicting the mean
(1) scores ``Var(y) = 2/12 = 0.167``; a model that cannot carry the first marked value across
the ~T/2..T steps that follow it stays there. Every batch is drawn from a generator seeded by
``(run seed, iteration)`` and the test set (``test_size`` sequences, shared by all runs) from
its own seed, so a resumed run sees exactly the batches of an uninterrupted one.

Models (same inputs, loss, optimiser, batches and iterations):

* ELM: one :class:`dendrix.dendrites.ELM` layer (2 synapses, ``memory`` memory units, MLP
  hidden width ``2 memory``, one output read at the last step); ``dt = 1 ms`` so a time constant
  of ``n`` ms spans ``n`` steps; memory time constants learnable in ``[1, tau_m_max_steps * T]``
  steps, synaptic time constants learnable in ``[0.1, 20]`` steps (starting at 2).
* LSTM: ``nn.LSTM(2, lstm_hidden)`` and a linear readout of the last hidden state, forget-gate
  bias initialised to 1 (Jozefowicz et al. 2015) -- the usual best practice.

Both train with Adam, gradient-norm clipping and a constant learning rate, ``seeds`` runs each;
checkpoints are written every ``eval_every`` iterations and an interrupted run resumes. The
claim compares the mean test MSE over seeds; per-seed values are in the metrics.

Why the adding problem rather than pixel-by-pixel MNIST: on the 2-core CPU this project runs
on, one ELM pass over pixel MNIST (T = 784, 50k images) costs ~3-6 minutes per epoch and the
comparison needs tens of epochs per model, whereas the adding problem at T = 500 isolates the
long-range dependency (nothing else to learn): the full run (T = 500, 4,000 iterations, 3
seeds per model) takes ~0.08 s per ELM and ~0.03 s per LSTM iteration on one core, about
25 minutes in all on an idle machine (roughly twice that on a busy one).
Pilot runs (seed 0, one core) fixed the full config: at T = 500 with lr 1e-3 and memory time
constants up to 4 T the ELM left the 0.167 plateau after ~1,000 iterations and reached MSE
~0.01 by ~1,400 (lr 3e-3 with bounds up to 2 T had not learned by 1,200); at T = 1000 it was
still on the plateau after 3,000 iterations, so T = 1000 is out of this budget. At T = 100
(the quick config) it learns in ~500 iterations while the LSTM stays on the plateau.
The paper's own long-horizon evidence (SHD-Adding, where an LSTM fails and the ELM reaches
0.82) needs the SHD data set, which is not available offline here.

Reference:
    A. Spieler, N. Rahaman, G. Martius, B. Schölkopf and A. Levina, "The expressive leaky
    memory neuron: an efficient and expressive phenomenological neuron model can solve
    long-horizon tasks", ICLR 2024. S. Hochreiter and J. Schmidhuber, "Long short-term
    memory", Neural Computation 9(8), 1997. Q. V. Le, N. Jaitly and G. E. Hinton, "A simple
    way to initialize recurrent networks of rectified linear units", arXiv:1504.00941, 2015.
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from matplotlib.figure import Figure
from torch import Tensor, nn

from dendrix._io import atomic_write
from dendrix.dendrites.elm import ELM
from dendrix.recipes._training import config_digest, torch_threads
from dendrix.recipes.base import Claim, Result, register_recipe

__all__ = ["ELMLongHorizonConfig", "ELMRegressor", "LSTMRegressor", "adding_batch", "run"]

PAPER = (
    "Spieler A, Rahaman N, Martius G, Schölkopf B, Levina A (2024) The expressive leaky memory "
    "neuron: an efficient and expressive phenomenological neuron model can solve long-horizon "
    "tasks. ICLR"
)

#: MSE of always predicting the mean sum 1: Var(v1 + v2) = 2 / 12.
BASELINE_MSE = 1.0 / 6.0


@dataclass(frozen=True)
class ELMLongHorizonConfig:
    """Budget and models of the ``elm-long-horizon`` recipe.

    Attributes:
        seed: the test set, and the first run's weights and training batches.
        seeds: runs per model (seeds ``seed .. seed + seeds - 1``).
        seq_len: T, steps per sequence.
        iterations: optimiser steps per model (one fresh batch each).
        batch_size, lr, clip: Adam's batch, learning rate and gradient-norm clip.
        memory: ELM memory units d_m (MLP hidden width 2 d_m).
        tau_m_max_steps: upper bound of the ELM memory time constants, in units of T.
        lstm_hidden: LSTM units (chosen so the parameter counts are similar).
        test_size: test sequences (fixed, from their own seed).
        eval_every: iterations between test evaluations and checkpoints.
        target_mse: the ELM test MSE the claim checks in quick runs (a floor, not a paper
            figure); full runs check the ELM against the LSTM of the same run.
        checkpoint: file stem to save/resume from ("" = no checkpoints); the runs write
            ``<stem>-elm-s<seed>.pt`` and ``<stem>-lstm-s<seed>.pt``.
    """

    seed: int = 0
    seeds: int = 3
    seq_len: int = 500
    iterations: int = 4000
    batch_size: int = 64
    lr: float = 1e-3
    clip: float = 1.0
    memory: int = 32
    tau_m_max_steps: float = 4.0
    lstm_hidden: int = 32
    test_size: int = 2000
    eval_every: int = 250
    target_mse: float | None = None
    checkpoint: str = "results/checkpoints/elm-long-horizon"


def adding_batch(batch: int, seq_len: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """One batch of the adding problem: ``x`` ``[T, B, 2]`` (value, marker) and ``y`` ``[B]``."""
    values = torch.rand(seq_len, batch, generator=generator)  # [T, B]
    half = seq_len // 2
    first = torch.randint(0, half, (batch,), generator=generator)
    second = torch.randint(half, seq_len, (batch,), generator=generator)
    markers = torch.zeros(seq_len, batch)
    cols = torch.arange(batch)
    markers[first, cols] = 1.0
    markers[second, cols] = 1.0
    return torch.stack([values, markers], dim=-1), (values * markers).sum(0)


def _generator(seed: int, stream: int, index: int) -> torch.Generator:
    return torch.Generator().manual_seed(((seed * 1_000_003 + stream) * 10_000_019 + index) % 2**63)


class ELMRegressor(nn.Module):
    """One ELM layer; the prediction is its output at the last step (``[T, B, 2] -> [B]``)."""

    def __init__(self, memory: int, seq_len: int, tau_m_max_steps: float, seed: int) -> None:
        super().__init__()
        dt = 1e-3  # one step = 1 ms: a time constant of n ms spans n steps
        self.elm = ELM(
            2,
            1,
            memory=memory,
            dt=dt,
            tau_m=(dt, max(tau_m_max_steps * seq_len, 2.0) * dt),
            learn_tau_m=True,
            tau_s=2 * dt,
            learn_tau_s=True,
            tau_s_bounds=(0.1 * dt, 20 * dt),
            generator=torch.Generator().manual_seed(seed),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.elm(x)[-1, :, 0]


class LSTMRegressor(nn.Module):
    """``nn.LSTM`` and a linear readout of the last hidden state (``[T, B, 2] -> [B]``)."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.lstm = nn.LSTM(2, hidden)
        self.readout = nn.Linear(hidden, 1)
        with torch.no_grad():  # forget-gate bias 1 = 0.5 + 0.5 (gate order i, f, g, o)
            for bias in (self.lstm.bias_ih_l0, self.lstm.bias_hh_l0):
                bias[hidden : 2 * hidden] = 0.5

    def forward(self, x: Tensor) -> Tensor:
        return self.readout(self.lstm(x)[0][-1])[:, 0]


@torch.no_grad()
def _test_mse(model: nn.Module, x: Tensor, y: Tensor, chunk: int = 250) -> float:
    model.eval()
    total = 0.0
    for start in range(0, y.shape[0], chunk):
        pred = model(x[:, start : start + chunk])
        total += float(((pred - y[start : start + chunk]) ** 2).sum())
    model.train()
    return total / y.shape[0]


def _train(
    model: nn.Module,
    label: str,
    run_seed: int,
    config: ELMLongHorizonConfig,
    test: tuple[Tensor, Tensor],
) -> dict[str, Any]:
    """Adam on fresh batches; test MSE every ``eval_every`` iterations; checkpoint and resume."""
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    history: dict[str, Any] = {"iteration": [], "test_mse": [], "seconds": 0.0, "resumed_from": 0}
    start = 0
    path = Path(f"{config.checkpoint}-{label}-s{run_seed}.pt") if config.checkpoint else None
    digest = config_digest(config)
    if path is not None and path.exists():
        saved = torch.load(path, weights_only=False)
        if saved.get("digest") != digest:
            raise ValueError(
                f"checkpoint {path} was written by a different config; delete it or give "
                "another checkpoint path to start afresh."
            )
        model.load_state_dict(saved["model"])
        optimiser.load_state_dict(saved["optimiser"])
        history = saved["history"]
        start = saved["iteration"]
        history["resumed_from"] = start
    model.train()
    t0 = time.perf_counter()
    for it in range(start, config.iterations):
        x, y = adding_batch(config.batch_size, config.seq_len, _generator(run_seed, 0, it))
        loss = ((model(x) - y) ** 2).mean()
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), config.clip)
        optimiser.step()
        done = it + 1
        if done % config.eval_every == 0 or done == config.iterations:
            history["iteration"].append(done)
            history["test_mse"].append(_test_mse(model, *test))
            history["seconds"] += time.perf_counter() - t0
            if path is not None:
                state = {
                    "digest": digest,
                    "iteration": done,
                    "model": model.state_dict(),
                    "optimiser": optimiser.state_dict(),
                    "history": history,
                }
                atomic_write(path, lambda p, s=state: torch.save(s, p))
            t0 = time.perf_counter()
    return history


def _run(config: ELMLongHorizonConfig) -> Result:
    x_test, y_test = adding_batch(config.test_size, config.seq_len, _generator(config.seed, 1, 0))
    seeds = [config.seed + i for i in range(config.seeds)]
    histories: dict[str, list[dict[str, Any]]] = {"elm": [], "lstm": []}
    params: dict[str, int] = {}
    taus = []
    for run_seed in seeds:
        # nn.LSTM's initialiser draws from torch's global generator: seed it inside a forked
        # RNG context so the caller's global state is left as it was
        with torch.random.fork_rng():
            torch.manual_seed(run_seed)
            elm = ELMRegressor(config.memory, config.seq_len, config.tau_m_max_steps, run_seed)
            lstm = LSTMRegressor(config.lstm_hidden)
            for name, model in (("elm", elm), ("lstm", lstm)):
                histories[name].append(_train(model, name, run_seed, config, (x_test, y_test)))
                params[name] = sum(p.numel() for p in model.parameters())
        taus.append(elm.elm.tau_m().detach() / elm.elm.dt)
    final = {name: [float(h["test_mse"][-1]) for h in hs] for name, hs in histories.items()}
    seconds = {name: sum(float(h["seconds"]) for h in hs) for name, hs in histories.items()}
    runs = config.iterations * len(seeds)
    elm_mse, lstm_mse = statistics.fmean(final["elm"]), statistics.fmean(final["lstm"])
    all_taus = torch.cat(taus)
    metrics: dict[str, float] = {
        "elm_test_mse": elm_mse,
        "lstm_test_mse": lstm_mse,
        "elm_test_mse_worst_seed": max(final["elm"]),
        "lstm_test_mse_best_seed": min(final["lstm"]),
        "baseline_mse": BASELINE_MSE,
        "elm_test_mse_over_baseline": elm_mse / BASELINE_MSE,
        "lstm_test_mse_over_baseline": lstm_mse / BASELINE_MSE,
        "elm_parameters": params["elm"],
        "lstm_parameters": params["lstm"],
        "seq_len": config.seq_len,
        "iterations": config.iterations,
        "seeds": len(seeds),
        "elm_train_seconds": seconds["elm"],
        "lstm_train_seconds": seconds["lstm"],
        "elm_seconds_per_iteration": seconds["elm"] / runs,
        "lstm_seconds_per_iteration": seconds["lstm"] / runs,
        "elm_tau_m_steps_min": float(all_taus.min()),
        "elm_tau_m_steps_max": float(all_taus.max()),
    }
    for name in ("elm", "lstm"):
        for run_seed, value in zip(seeds, final[name], strict=True):
            metrics[f"{name}_test_mse_seed{run_seed}"] = value
    if config.target_mse is not None:
        claim = Claim(
            "elm_test_mse",
            config.target_mse,
            elm_mse,
            "",
            "quick-budget floor, not a paper figure: a short adding problem and few iterations "
            f"(predicting the mean scores {BASELINE_MSE:.3f})",
            compare="at_most",
            rel_tol=0.0,
        )
    else:
        claim = Claim(
            "elm_test_mse",
            lstm_mse,
            elm_mse,
            "",
            "issue acceptance: the ELM beats an LSTM of similar size (the 'paper' value is the "
            "LSTM's mean test MSE in this run; Spieler et al. 2024 report the analogous gap on "
            "SHD-Adding, ELM 0.82 vs a failing LSTM)",
            compare="at_most",
            rel_tol=0.0,
        )
    fig = Figure(figsize=(6, 3.4))
    ax = fig.add_subplot()
    for name, color in (("elm", "C0"), ("lstm", "C1")):
        for i, h in enumerate(histories[name]):
            ax.plot(
                h["iteration"],
                h["test_mse"],
                "o-",
                ms=3,
                lw=1,
                color=color,
                label=f"{name.upper()} ({params[name]:,} parameters)" if i == 0 else None,
            )
    ax.axhline(BASELINE_MSE, color="grey", ls="--", label="predict the mean (0.167)")
    ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("test MSE")
    ax.set_title(f"adding problem, T = {config.seq_len}, {len(seeds)} seed(s)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    resumed = [
        f"{name} seed {run_seed} after {h['resumed_from']}"
        for name, hs in histories.items()
        for run_seed, h in zip(seeds, hs, strict=True)
        if h["resumed_from"]
    ]
    notes = (
        f"Adding problem with T = {config.seq_len}, {config.iterations} iterations of batch "
        f"{config.batch_size} per model and seed (Adam, lr {config.lr}, clip {config.clip}), "
        f"seeds {seeds[0]}..{seeds[-1]}, {config.test_size} test sequences. ELM: "
        f"{config.memory} memory units, {params['elm']:,} parameters; LSTM: "
        f"{config.lstm_hidden} units, {params['lstm']:,} parameters. Predicting the mean scores "
        f"MSE {BASELINE_MSE:.3f}. Means over seeds; per-seed values in the metrics. "
        f"{metrics['elm_seconds_per_iteration']:.3f} s (ELM) and "
        f"{metrics['lstm_seconds_per_iteration']:.3f} s (LSTM) per iteration on this machine"
        + (f"; resumed: {', '.join(resumed)}" if resumed else "")
        + ". The test set is fixed and never used for selection; the last evaluation counts."
    )
    if not all(math.isfinite(v) for v in metrics.values()):
        raise RuntimeError("a test MSE is not finite; lower lr or clip")
    return Result(metrics=metrics, claims=[claim], figures={"curve": fig}, data=[], notes=notes)


@register_recipe(
    "elm-long-horizon",
    config=ELMLongHorizonConfig(),
    quick=ELMLongHorizonConfig(
        seeds=1,
        seq_len=100,
        lr=3e-3,
        tau_m_max_steps=2.0,
        iterations=800,
        test_size=500,
        eval_every=100,
        target_mse=0.05,
        checkpoint="",
    ),
    title="ELM neuron vs an LSTM of similar size on the adding problem",
    paper=PAPER,
)
def run(config: ELMLongHorizonConfig) -> Result:
    with torch_threads(1):
        return _run(config)
