r"""Recipes ``snn-mnist`` and ``snn-fashion``: a convolutional spiking network trained with
surrogate gradients on MNIST and Fashion-MNIST.

Model (the shape of Fang et al. 2021's static-image network, scaled to a CPU budget)::

    image [B, 1, 28, 28] in [0, 1] -> conv3x3(1 -> c1) + BN      (computed once: the analog
                                                                  image is the input current
                                                                  at every one of T steps)
      -> LIF -> maxpool 2 -> conv3x3(c1 -> c2) + BN -> LIF -> maxpool 2
      -> flatten -> dropout -> linear(c2*7*7 -> hidden) -> LIF -> linear(hidden -> 10)
      -> logits = mean over the T steps of the last layer's output

The LIF layers (:class:`dendrix.spiking.LIF`) have learnable per-channel membrane time
constants (the "parametric LIF" of Fang et al.), reset to zero with the reset detached, an
arctangent surrogate, and run on the fused CPU kernel. Training: Adam with a cosine learning
rate schedule, cross-entropy on the time-averaged logits, 5,000 training images held out for
validation (the test split is evaluated once, after the last epoch; nothing is selected on it).
Checkpoints after every epoch; an interrupted run resumes.

Published: MNIST 99.72 % (PLIF) / 99.69 % (LIF), Fashion-MNIST 94.38 % / 94.17 % (Fang et al.
2021, their larger network: 128-channel convolutions, T = 8, hundreds of epochs on a GPU). The
issue's targets are 99.3 % and 92 %.

Reference:
    W. Fang, Z. Yu, Y. Chen, T. Masquelier, T. Huang and Y. Tian, "Incorporating learnable
    membrane time constant to enhance learning of spiking neural networks", ICCV 2021.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch
from matplotlib.figure import Figure
from torch import Tensor, nn

from dendrix.data.idx import load_mnist
from dendrix.recipes._training import config_digest, evaluate, fit
from dendrix.recipes.base import Claim, Result, register_recipe
from dendrix.spiking import LIF

__all__ = ["SNNImageConfig", "SpikingConvNet", "run"]

PAPER = (
    "Fang W, Yu Z, Chen Y, Masquelier T, Huang T, Tian Y (2021) Incorporating learnable "
    "membrane time constant to enhance learning of spiking neural networks. ICCV"
)


@dataclass(frozen=True)
class SNNImageConfig:
    """Budget and model of the ``snn-mnist`` / ``snn-fashion`` recipes.

    Attributes:
        seed: weight initialisation and batch order.
        dataset: ``"mnist"`` or ``"fashion-mnist"``.
        train_size: training images used (``None``: all 60,000 minus the validation ones).
        val_size: training images held out for validation.
        test_size: test images evaluated (``None``: all 10,000).
        epochs, batch_size, lr: optimisation budget (Adam, cosine schedule).
        num_steps: T, time steps per image.
        channels: (c1, c2) of the two convolutions; hidden: units of the spiking FC layer.
        tau_mem: initial membrane time constant in seconds (dt = 1 ms, learnable per channel).
        dropout: before the hidden layer.
        target: the issue's accuracy target (%) the claim checks.
        checkpoint: file to save/resume from ("" = no checkpoint).
    """

    seed: int = 0
    dataset: str = "mnist"
    train_size: int | None = None
    val_size: int = 5000
    test_size: int | None = None
    epochs: int = 12
    batch_size: int = 128
    lr: float = 2e-3
    num_steps: int = 4
    channels: tuple[int, int] = (32, 64)
    hidden: int = 256
    tau_mem: float = 2e-3
    dropout: float = 0.3
    target: float = 99.3
    paper: float = 99.72
    checkpoint: str = "results/checkpoints/snn-mnist.pt"


class SpikingConvNet(nn.Module):
    """The recipe's network (module docstring); input ``[B, C, H, W]``, logits ``[B, classes]``."""

    def __init__(
        self,
        *,
        in_channels: int = 1,
        size: int = 28,
        classes: int = 10,
        num_steps: int = 4,
        channels: tuple[int, int] = (32, 64),
        hidden: int = 256,
        tau_mem: float = 2e-3,
        dropout: float = 0.3,
        dt: float = 1e-3,
    ) -> None:
        super().__init__()
        c1, c2 = channels
        self.num_steps = num_steps
        lif = dict(
            tau_mem=tau_mem,
            reset="zero",
            detach_reset=True,
            surrogate="atan",
            dt=dt,
            learn_tau=True,
            tau_bounds=(0.2 * dt, 50 * dt),
            return_state=False,
        )
        self.conv1 = nn.Sequential(
            nn.Conv2d(in_channels, c1, 3, padding=1, bias=False), nn.BatchNorm2d(c1)
        )
        self.lif1 = LIF((c1, 1, 1), **lif)
        self.conv2 = nn.Sequential(nn.Conv2d(c1, c2, 3, padding=1, bias=False), nn.BatchNorm2d(c2))
        self.lif2 = LIF((c2, 1, 1), **lif)
        flat = c2 * (size // 4) ** 2
        self.fc1 = nn.Sequential(nn.Dropout(dropout), nn.Linear(flat, hidden))
        self.lif3 = LIF(hidden, **lif)
        self.fc2 = nn.Linear(hidden, classes)

    def forward(self, x: Tensor) -> Tensor:
        """``x``: a static image batch ``[B, C, H, W]`` or a sequence ``[T, B, C, H, W]``."""
        if x.ndim == 5:  # event frames: a new input current at every step
            t, b = x.shape[:2]
            drive = self.conv1(x.flatten(0, 1)).unflatten(0, (t, b))  # [T, B, c1, H, W]
        else:  # a static image: the same current at every step, computed once
            t, b = self.num_steps, x.shape[0]
            once = self.conv1(x)  # [B, c1, H, W]
            drive = once.unsqueeze(0).expand(t, *once.shape).contiguous()
        z = self.lif1(drive)  # [T, B, c1, H, W]
        z = nn.functional.max_pool2d(z.flatten(0, 1), 2)  # [T*B, c1, H/2, W/2]
        z = self.lif2(self.conv2(z).unflatten(0, (t, b)))  # [T, B, c2, H/2, W/2]
        z = nn.functional.max_pool2d(z.flatten(0, 1), 2).flatten(1)  # [T*B, c2*H/4*W/4]
        z = self.lif3(self.fc1(z).unflatten(0, (t, b)))  # [T, B, hidden]
        return self.fc2(z).mean(0)  # [B, classes]


def _prepare(x: Tensor) -> Tensor:
    return x.unsqueeze(1).float() / 255.0  # [B, 28, 28] uint8 -> [B, 1, 28, 28] in [0, 1]


def _split(config: SNNImageConfig) -> tuple[Tensor, ...]:
    x, y = load_mnist(config.dataset, "train")
    g = torch.Generator().manual_seed(config.seed)
    order = torch.randperm(len(x), generator=g)
    val, rest = order[: config.val_size], order[config.val_size :]
    if config.train_size is not None:
        rest = rest[: config.train_size]
    x_test, y_test = load_mnist(config.dataset, "test")
    if config.test_size is not None:
        x_test, y_test = x_test[: config.test_size], y_test[: config.test_size]
    return x[rest], y[rest], x[val], y[val], x_test, y_test


def _run(config: SNNImageConfig, name: str) -> Result:
    # nn.Module initialisers and dropout draw from torch's global generator: seed it inside a
    # forked RNG context so the caller's global state is left as it was
    with torch.random.fork_rng():
        torch.manual_seed(config.seed)
        return _train_and_test(config, name)


def _train_and_test(config: SNNImageConfig, name: str) -> Result:
    x_tr, y_tr, x_val, y_val, x_te, y_te = _split(config)
    model = SpikingConvNet(
        num_steps=config.num_steps,
        channels=config.channels,
        hidden=config.hidden,
        tau_mem=config.tau_mem,
        dropout=config.dropout,
    )
    checkpoint = Path(config.checkpoint) if config.checkpoint else None
    history = fit(
        model,
        (x_tr, y_tr, x_val, y_val),
        epochs=config.epochs,
        batch_size=config.batch_size,
        lr=config.lr,
        seed=config.seed,
        checkpoint=checkpoint,
        digest=config_digest(config),
        prepare=_prepare,
        description=name,
    )
    test_acc = evaluate(model, x_te, y_te, batch_size=512, prepare=_prepare)
    taus = torch.cat([m.tau_mem().detach().flatten() for m in (model.lif1, model.lif2, model.lif3)])
    metrics = {
        "test_accuracy": test_acc,
        "val_accuracy_last_epoch": history.val_accuracy[-1],
        "epochs": config.epochs,
        "train_images": len(x_tr),
        "test_images": len(x_te),
        "train_seconds": sum(history.epoch_seconds),
        "seconds_per_epoch": sum(history.epoch_seconds) / max(len(history.epoch_seconds), 1),
        "parameters": sum(p.numel() for p in model.parameters()),
        "learned_tau_ms_min": 1e3 * float(taus.min()),
        "learned_tau_ms_max": 1e3 * float(taus.max()),
    }
    full = config.train_size is None and config.test_size is None
    source = (
        f"issue target (paper {config.paper} %, Fang et al. 2021, larger net on a GPU)"
        if full
        else "quick-budget floor, not a paper figure: a small subset, two epochs"
    )
    claims = [
        Claim(
            "test_accuracy", config.target, test_acc, "%", source, compare="at_least", rel_tol=0.0
        )
    ]
    fig = Figure(figsize=(6, 3.2))
    ax = fig.add_subplot()
    epochs = range(1, len(history.val_accuracy) + 1)
    ax.plot(epochs, history.val_accuracy, "o-", label="validation")
    ax.axhline(test_acc, color="C1", ls="--", label=f"test {test_acc:.2f} % (final)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy (%)")
    ax.set_title(f"{name}: conv SNN, T = {config.num_steps}")
    ax.legend()
    fig.tight_layout()
    notes = (
        f"{len(x_tr)} training images ({config.val_size} held out for validation), "
        f"{len(x_te)} test images, {config.epochs} epochs, seed {config.seed}, T = "
        f"{config.num_steps}, channels {config.channels}, hidden {config.hidden}; "
        f"{metrics['seconds_per_epoch']:.0f} s per epoch on this machine"
        + (f"; resumed after epoch {history.resumed_from}" if history.resumed_from else "")
        + ". Test accuracy is measured once, after the last epoch."
    )
    if not math.isfinite(test_acc):
        raise RuntimeError("test accuracy is not finite")
    return Result(
        metrics=metrics,
        claims=claims,
        figures={"curve": fig},
        data=[
            f"{config.dataset}/train-images-idx3-ubyte.gz",
            f"{config.dataset}/t10k-images-idx3-ubyte.gz",
        ],
        notes=notes,
    )


@register_recipe(
    "snn-mnist",
    config=SNNImageConfig(),
    quick=SNNImageConfig(
        train_size=6000,
        val_size=500,
        test_size=1000,
        epochs=2,
        batch_size=64,
        channels=(8, 16),
        hidden=64,
        target=85.0,
        checkpoint="",
    ),
    title="Convolutional SNN with surrogate gradients on MNIST",
    paper=PAPER,
)
def run(config: SNNImageConfig) -> Result:
    return _run(config, "snn-mnist")


@register_recipe(
    "snn-fashion",
    config=SNNImageConfig(
        dataset="fashion-mnist",
        target=92.0,
        paper=94.38,
        epochs=15,
        checkpoint="results/checkpoints/snn-fashion.pt",
    ),
    quick=SNNImageConfig(
        dataset="fashion-mnist",
        train_size=6000,
        val_size=500,
        test_size=1000,
        epochs=2,
        batch_size=64,
        channels=(8, 16),
        hidden=64,
        target=70.0,
        paper=94.38,
        checkpoint="",
    ),
    title="Convolutional SNN with surrogate gradients on Fashion-MNIST",
    paper=PAPER,
)
def run_fashion(config: SNNImageConfig) -> Result:
    return _run(config, "snn-fashion")
