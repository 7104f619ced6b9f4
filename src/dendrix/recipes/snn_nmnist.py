r"""Recipe ``snn-nmnist-small``: a convolutional SNN on real event-camera recordings.

Data: the 1,000 training and 100 test N-MNIST recordings shipped in ``nmnist-small``
(Orchard et al. 2015; the SLAYER example subset), binned into frames of ``bin_ms`` (event
counts per polarity and pixel, ``[T, B, 2, 34, 34]``), over the first ``duration_ms`` of each
recording (events after that are left out on purpose, ``clip=True``; the recordings last about
300 ms). Model: :class:`~dendrix.recipes.snn_images.SpikingConvNet`, which feeds each frame as
the input current of its step. 100 of the 1,000 training recordings are held out for
validation; the 100 test recordings are evaluated once, at the end.

Published: 99.61 % on the full N-MNIST (60,000 training recordings, PLIF network, Fang et al.
2021). This recipe trains on 900 recordings, 1.5 % of that, so it is expected to fall short;
the claim records by how much.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from matplotlib.figure import Figure
from torch import Tensor

from dendrix.data.events import load_nmnist_small
from dendrix.recipes._training import config_digest, evaluate, fit
from dendrix.recipes.base import Claim, Result, register_recipe
from dendrix.recipes.snn_images import PAPER, SpikingConvNet

__all__ = ["NMNISTConfig", "run"]


@dataclass(frozen=True)
class NMNISTConfig:
    """Budget of ``snn-nmnist-small``.

    Attributes:
        seed: initialisation, validation split and batch order.
        train_size: training recordings used (of 1,000, before the validation hold-out).
        val_size: held out from them for validation.
        bin_ms, duration_ms: frame width and window (ms): T = duration / bin.
        epochs, batch_size, lr: optimisation budget (Adam, cosine schedule).
        channels, hidden, tau_mem: network (see SpikingConvNet).
        target, paper: the claim's threshold and the published full-data figure (%).
        checkpoint: save/resume file ("" = none).
    """

    seed: int = 0
    train_size: int = 1000
    val_size: int = 100
    bin_ms: int = 10
    duration_ms: int = 300
    epochs: int = 30
    batch_size: int = 32
    lr: float = 2e-3
    channels: tuple[int, int] = (16, 32)
    hidden: int = 128
    tau_mem: float = 5e-3
    target: float = 99.61
    paper: float = 99.61
    checkpoint: str = "results/checkpoints/snn-nmnist-small.pt"


def _frames(split: str, config: NMNISTConfig) -> tuple[Tensor, Tensor]:
    frames, labels = load_nmnist_small(
        split, bin_s=config.bin_ms * 1e-3, duration_s=config.duration_ms * 1e-3, clip=True
    )
    return frames.transpose(0, 1).contiguous(), labels  # [N, T, 2, 34, 34] for batching


def _prepare(x: Tensor) -> Tensor:
    return x.transpose(0, 1)  # [B, T, ...] -> [T, B, ...]


@register_recipe(
    "snn-nmnist-small",
    config=NMNISTConfig(),
    quick=NMNISTConfig(
        train_size=600,
        val_size=100,
        epochs=6,
        bin_ms=20,
        channels=(8, 16),
        hidden=64,
        target=50.0,
        checkpoint="",
    ),
    title="Convolutional SNN on N-MNIST event recordings (1,000-recording subset)",
    paper=PAPER,
)
def run(config: NMNISTConfig) -> Result:
    with torch.random.fork_rng():  # module initialisers and dropout use torch's global RNG
        torch.manual_seed(config.seed)
        return _train_and_test(config)


def _train_and_test(config: NMNISTConfig) -> Result:
    x, y = _frames("train", config)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(config.seed))
    order = order[: config.train_size]
    val, tr = order[: config.val_size], order[config.val_size :]
    x_te, y_te = _frames("test", config)
    model = SpikingConvNet(
        in_channels=2,
        size=34,
        channels=config.channels,
        hidden=config.hidden,
        tau_mem=config.tau_mem,
        dropout=0.3,
    )
    history = fit(
        model,
        (x[tr], y[tr], x[val], y[val]),
        epochs=config.epochs,
        batch_size=config.batch_size,
        lr=config.lr,
        seed=config.seed,
        checkpoint=Path(config.checkpoint) if config.checkpoint else None,
        digest=config_digest(config),
        prepare=_prepare,
        description="snn-nmnist-small",
    )
    test_acc = evaluate(model, x_te, y_te, batch_size=100, prepare=_prepare)
    full = config.train_size == 1000
    claims = [
        Claim(
            "test_accuracy",
            config.target,
            test_acc,
            "%",
            "Fang et al. 2021, full N-MNIST (60,000 recordings); here 900"
            if full
            else "quick-budget floor, not a paper figure",
            compare="at_least",
            rel_tol=0.0,
        )
    ]
    fig = Figure(figsize=(6, 3.2))
    ax = fig.add_subplot()
    ax.plot(range(1, len(history.val_accuracy) + 1), history.val_accuracy, "o-", label="validation")
    ax.axhline(test_acc, color="C1", ls="--", label=f"test {test_acc:.1f} % (final)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy (%)")
    ax.legend()
    fig.tight_layout()
    t_steps = config.duration_ms // config.bin_ms
    return Result(
        metrics={
            "test_accuracy": test_acc,
            "val_accuracy_last_epoch": history.val_accuracy[-1],
            "train_recordings": len(tr),
            "test_recordings": len(x_te),
            "time_steps": t_steps,
            "epochs": config.epochs,
            "train_seconds": sum(history.epoch_seconds),
        },
        claims=claims,
        figures={"curve": fig},
        data=["nmnist-small/train1K.txt", "nmnist-small/test100.txt", "nmnist-small/samples"],
        notes=(
            f"{len(tr)} training / {config.val_size} validation / {len(x_te)} test recordings, "
            f"{t_steps} frames of {config.bin_ms} ms (first {config.duration_ms} ms), "
            f"{config.epochs} epochs, seed {config.seed}."
        ),
    )
