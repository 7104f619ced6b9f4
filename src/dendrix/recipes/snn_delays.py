r"""Recipe ``snn-delays``: learned synaptic delays solve a task that only spike timing can solve.

Task (:func:`dendrix.data.synthetic.spike_timing_task`): ``inputs`` neurons each fire exactly
once per sample; the ``classes`` classes are different orderings of the same spike times
within ``pattern_steps`` steps, shifted by a random amount per sample. Spike counts, rates and
even the summed population activity are identical in every class; only which input fires when,
relative to the others, carries the label.

Network (both variants identical but for the delays)::

    x [T, B, inputs] -> DelayedLinear(inputs -> hidden, max_delay = pattern_steps - 1)
      -> LIF(hidden, tau_mem = 0.1 ms at dt = 1 ms) -> spike counts over the window [B, hidden]
      -> Linear(hidden -> classes) -> logits

- *learned delays*: weights and delays trained together by surrogate gradients; the delays are
  Gaussian taps whose width anneals from ``pattern_steps / 3`` to 0.23 steps over the first
  half of training (Hammouamri et al. 2024), projected into range after every step, and
  rounded to integers before the test, which runs with exact integer delays;
- *delays frozen at zero*: the same network and training with every delay fixed at 0.

A network without delays and with a short membrane time constant sees one input spike at a
time, so its time-summed spike counts are (nearly) the same for every class: it should stay
near chance (1/classes). The issue's acceptance: learned delays >= 95 % test accuracy, frozen
delays near chance.

Reference: I. Hammouamri, I. Khalfaoui-Hassani and T. Masquelier, "Learning delays in spiking
neural networks using dilated convolutions with learnable spacings", ICLR 2024.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from matplotlib.figure import Figure
from torch import Tensor, nn

from dendrix.data.synthetic import spike_timing_task
from dendrix.recipes.base import Claim, Result, register_recipe
from dendrix.spiking import LIF
from dendrix.spiking.delays import DelayedLinear, anneal_sigma

__all__ = ["DelayNetwork", "SNNDelaysConfig", "run"]

PAPER = (
    "Hammouamri I, Khalfaoui-Hassani I, Masquelier T (2024) Learning delays in spiking neural "
    "networks using dilated convolutions with learnable spacings. ICLR"
)


@dataclass(frozen=True)
class SNNDelaysConfig:
    """Budget of ``snn-delays``.

    Attributes:
        seed: data generators (train/val/test drawn from seed, seed+1, seed+2) and weights.
        inputs, classes, pattern_steps, num_steps: the task (see spike_timing_task).
        hidden: delayed LIF neurons.
        tau_mem: their membrane time constant in seconds (dt = 1 ms); 0.1 ms leaves
            exp(-10) = 4.5e-5 of the potential after one step, so without delays a neuron
            cannot sum spikes that arrive in different steps.
        train_size, val_size, test_size: samples per split.
        epochs, batch_size, lr, lr_delay: Adam on weights (lr) and delays (lr_delay, steps).
        target: accuracy (%) the learned delays must reach.
    """

    seed: int = 0
    inputs: int = 10
    classes: int = 4
    pattern_steps: int = 20
    num_steps: int = 50
    hidden: int = 32
    tau_mem: float = 0.1e-3
    train_size: int = 4000
    val_size: int = 500
    test_size: int = 2000
    epochs: int = 40
    batch_size: int = 64
    lr: float = 5e-3
    lr_delay: float = 0.2
    target: float = 95.0


class DelayNetwork(nn.Module):
    """The recipe's network (module docstring); ``[T, B, inputs]`` -> logits ``[B, classes]``."""

    def __init__(self, config: SNNDelaysConfig, *, learn_delays: bool, generator: torch.Generator):
        super().__init__()
        self.delayed = DelayedLinear(
            config.inputs,
            config.hidden,
            max_delay=config.pattern_steps - 1,
            generator=generator,
        )
        with torch.no_grad():
            self.delayed.weight.mul_(3.0)  # one or a few coincident spikes can reach threshold
        if not learn_delays:
            with torch.no_grad():
                self.delayed.delay.zero_()
            self.delayed.delay.requires_grad_(False)
            self.delayed.round_delays()
        self.lif = LIF(config.hidden, tau_mem=config.tau_mem, dt=1e-3, return_state=False)
        self.readout = nn.Linear(config.hidden, config.classes)
        bound = 1.0 / config.hidden**0.5
        with torch.no_grad():
            self.readout.weight.uniform_(-bound, bound, generator=generator)
            self.readout.bias.zero_()

    def forward(self, x: Tensor) -> Tensor:
        counts = self.lif(self.delayed(x)).sum(0)  # [T, B, hidden] -> [B, hidden]
        return self.readout(counts)


def _accuracy(model: nn.Module, x: Tensor, y: Tensor) -> float:
    with torch.no_grad():
        return 100.0 * float((model(x).argmax(-1) == y).float().mean())


def _train(
    config: SNNDelaysConfig, learn_delays: bool, data: dict[str, tuple[Tensor, Tensor]]
) -> tuple[DelayNetwork, list[float], float]:
    g = torch.Generator().manual_seed(config.seed)
    model = DelayNetwork(config, learn_delays=learn_delays, generator=g)
    groups = [
        {"params": [model.delayed.weight, *model.readout.parameters()], "lr": config.lr},
    ]
    if learn_delays:
        groups.append({"params": [model.delayed.delay], "lr": config.lr_delay})
    optimiser = torch.optim.Adam(groups)
    x_tr, y_tr = data["train"]
    x_val, y_val = data["val"]
    sigma_start = (config.pattern_steps - 1) / 3.0
    curve = []
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(config.epochs):
        if learn_delays:
            model.delayed.set_sigma(anneal_sigma(epoch, config.epochs // 2, sigma_start, 0.23))
        order = torch.randperm(len(y_tr), generator=g)
        model.train()
        for start in range(0, len(order), config.batch_size):
            idx = order[start : start + config.batch_size]
            loss = loss_fn(model(x_tr[:, idx]), y_tr[idx])
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            if learn_delays:
                model.delayed.clamp_delays_()
        model.eval()
        curve.append(_accuracy(model, x_val, y_val))
    gaussian_val = curve[-1]
    if learn_delays:
        model.delayed.round_delays()
    return model, curve, gaussian_val


@register_recipe(
    "snn-delays",
    config=SNNDelaysConfig(),
    quick=SNNDelaysConfig(train_size=1500, val_size=300, test_size=500, epochs=16),
    title="Learned synaptic delays solve a spike-timing task; frozen zero delays cannot",
    paper=PAPER,
)
def run(config: SNNDelaysConfig) -> Result:
    task = dict(
        num_inputs=config.inputs,
        num_steps=config.num_steps,
        num_classes=config.classes,
        pattern_steps=config.pattern_steps,
        pattern_seed=config.seed,
    )
    data = {}
    for offset, (split, size) in enumerate(
        (("train", config.train_size), ("val", config.val_size), ("test", config.test_size))
    ):
        g = torch.Generator().manual_seed(config.seed + offset)
        data[split] = spike_timing_task(size, generator=g, **task)
    learned, curve_learned, val_gauss = _train(config, True, data)
    frozen, curve_frozen, _ = _train(config, False, data)
    x_te, y_te = data["test"]
    acc_learned = _accuracy(learned, x_te, y_te)
    acc_frozen = _accuracy(frozen, x_te, y_te)
    chance = 100.0 / config.classes
    metrics = {
        "test_accuracy_learned_delays": acc_learned,
        "test_accuracy_frozen_zero_delays": acc_frozen,
        "chance_accuracy": chance,
        "val_accuracy_before_rounding": val_gauss,
        "val_accuracy_learned_last_epoch": curve_learned[-1],
        "val_accuracy_frozen_last_epoch": curve_frozen[-1],
        "distinct_learned_delays": int(learned.delayed.integer_delays().unique().numel()),
    }
    claims = [
        Claim(
            "test_accuracy_learned_delays",
            config.target,
            acc_learned,
            "%",
            "issue acceptance (rounded integer delays at test)",
            compare="at_least",
            rel_tol=0.0,
        ),
        Claim(
            "test_accuracy_frozen_zero_delays",
            chance,
            acc_frozen,
            "%",
            "chance level 1/classes: timing alone carries the label",
            compare="match",
            rel_tol=0.2,
        ),
    ]
    fig = Figure(figsize=(6, 3.2))
    ax = fig.add_subplot()
    epochs = range(1, config.epochs + 1)
    ax.plot(epochs, curve_learned, "o-", ms=3, label="learned delays")
    ax.plot(epochs, curve_frozen, "s-", ms=3, label="delays frozen at 0")
    ax.axhline(chance, color="grey", ls=":", label="chance")
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation accuracy (%)")
    ax.legend()
    fig.tight_layout()
    return Result(
        metrics=metrics,
        claims=claims,
        figures={"curves": fig},
        data=[],
        notes=(
            f"Synthetic task: {config.inputs} inputs, {config.classes} classes, patterns of "
            f"{config.pattern_steps} steps in windows of {config.num_steps}; "
            f"{config.train_size}/{config.val_size}/{config.test_size} train/val/test samples, "
            f"{config.epochs} epochs, seed {config.seed}. Test accuracy of the learned-delay "
            "network is measured after rounding its delays to integers."
        ),
    )
