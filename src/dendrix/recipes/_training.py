"""A small supervised training loop shared by the gradient-trained recipes.

One epoch = one pass over the training tensors in an order drawn from a generator seeded by
``(seed, epoch)``, so a resumed run sees exactly the batches an uninterrupted one would. After
every epoch the model, optimiser, scheduler and history are saved atomically to a checkpoint;
a run started with the same checkpoint path and config resumes after the last saved epoch.
Validation data (held out from the training split) is what the loop reports per epoch; the test
split is evaluated once, at the end, by the recipe.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from tqdm import tqdm

from dendrix._io import atomic_write

__all__ = [
    "TrainingHistory",
    "config_digest",
    "epoch_order",
    "evaluate",
    "fit",
    "resolve_device",
    "torch_threads",
]


@dataclass
class TrainingHistory:
    """Per-epoch records: training loss, validation accuracy (%), wall seconds."""

    train_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    resumed_from: int = 0


def config_digest(config: Any, ignore: Iterable[str] = (), **extra: Any) -> str:
    """A short hash of a dataclass config, to refuse resuming someone else's checkpoint.

    Args:
        config: the recipe's config.
        ignore: fields left out (bookkeeping that does not change the training, or a length
            that a longer run may extend).
        extra: entries added (e.g. which of several networks the checkpoint holds).
    """
    fields = dataclasses.asdict(config)
    for key in ignore:
        fields.pop(key)
    fields.update(extra)
    text = json.dumps(fields, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def epoch_order(seed: int, epoch: int, n: int) -> Tensor:
    """The order of ``n`` training items in ``epoch``: a permutation drawn from ``(seed,
    epoch)`` alone, so a resumed run visits them exactly as an uninterrupted one."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed * 1000 + epoch))


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` torch intra-op threads (``None``: unchanged), then restore.

    The recipes with small matrices use one: on a busy 2-core machine a second worker thread
    costs more in waiting than it saves.
    """
    before = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def resolve_device(device: str) -> torch.device:
    """The device a recipe trains on: ``"auto"`` is the first CUDA device when there is one,
    else the CPU; any other value is a torch device name (``"cpu"``, ``"cuda"``, ``"cuda:1"``).

    Raises:
        ValueError: ``device`` is not a device name, or names a CUDA device this machine lacks.
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        chosen = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(
            f"device={device!r} is not a device name; use 'auto', 'cpu' or 'cuda[:N]'."
        ) from error
    if chosen.type == "cuda" and (
        not torch.cuda.is_available() or (chosen.index or 0) >= torch.cuda.device_count()
    ):
        raise ValueError(
            f"device={device!r} but this machine has {torch.cuda.device_count()} CUDA "
            "device(s); use 'auto' or 'cpu'."
        )
    return chosen


@torch.no_grad()
def evaluate(
    model: nn.Module, x: Tensor, y: Tensor, *, batch_size: int, prepare: Callable | None = None
) -> float:
    """Accuracy in % of ``model(prepare(x_batch))`` logits ``[B, C]`` against ``y``."""
    model.eval()
    correct = 0
    for start in range(0, len(x), batch_size):
        xb = x[start : start + batch_size]
        xb = prepare(xb) if prepare is not None else xb
        correct += int((model(xb).argmax(-1) == y[start : start + batch_size]).sum())
    return 100.0 * correct / max(len(x), 1)


def fit(
    model: nn.Module,
    data: tuple[Tensor, Tensor, Tensor, Tensor],
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
    checkpoint: Path | None,
    digest: str,
    prepare: Callable | None = None,
    weight_decay: float = 0.0,
    progress: bool = True,
    description: str = "train",
) -> TrainingHistory:
    """Train ``model`` with Adam + cosine schedule and cross-entropy; resume from ``checkpoint``.

    Args:
        data: ``(x_train, y_train, x_val, y_val)``.
        prepare: maps a raw batch to the model input (e.g. scaling, time expansion).
        checkpoint: file to save after each epoch and resume from (``None``: no saving).
        digest: :func:`config_digest` of the run's config; a checkpoint with another digest is
            refused rather than silently overwritten.
    """
    x_train, y_train, x_val, y_val = data
    optimiser = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=epochs)
    history = TrainingHistory()
    start_epoch = 0
    if checkpoint is not None and checkpoint.exists():
        saved = torch.load(checkpoint, weights_only=False)
        if saved.get("digest") != digest:
            raise ValueError(
                f"checkpoint {checkpoint} was written by a different config; delete it or give "
                "another checkpoint path to start afresh."
            )
        model.load_state_dict(saved["model"])
        optimiser.load_state_dict(saved["optimiser"])
        scheduler.load_state_dict(saved["scheduler"])
        history = TrainingHistory(**saved["history"])
        start_epoch = saved["epoch"]
        history.resumed_from = start_epoch
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(start_epoch, epochs):
        t0 = time.perf_counter()
        model.train()
        order = epoch_order(seed, epoch, len(x_train))
        total, batches = 0.0, 0
        bar = tqdm(
            range(0, len(order), batch_size),
            desc=f"{description} {epoch + 1}/{epochs}",
            disable=not progress,
            leave=False,
        )
        for start in bar:
            idx = order[start : start + batch_size]
            xb = x_train[idx]
            xb = prepare(xb) if prepare is not None else xb
            loss = loss_fn(model(xb), y_train[idx])
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            total += float(loss.detach())
            batches += 1
        scheduler.step()
        history.train_loss.append(total / max(batches, 1))
        history.val_accuracy.append(
            evaluate(model, x_val, y_val, batch_size=4 * batch_size, prepare=prepare)
        )
        history.epoch_seconds.append(time.perf_counter() - t0)
        if progress:
            tqdm.write(
                f"{description} epoch {epoch + 1}: loss {history.train_loss[-1]:.4f}, "
                f"val {history.val_accuracy[-1]:.2f} %, {history.epoch_seconds[-1]:.0f} s"
            )
        if checkpoint is not None:
            state = {
                "digest": digest,
                "epoch": epoch + 1,
                "model": model.state_dict(),
                "optimiser": optimiser.state_dict(),
                "scheduler": scheduler.state_dict(),
                "history": dataclasses.asdict(history),
            }
            atomic_write(checkpoint, lambda p, s=state: torch.save(s, p))
    return history
