r"""Recipe ``hlop-pmnist``: Hebbian learning based orthogonal projection (HLOP) on permuted MNIST,
task-incremental, against fine-tuning without the projection.

**Tasks.** ``tasks`` permutations of the 784 MNIST pixels (task 0 the identity, the others drawn
from ``seed``); each task is the 10-class problem on its permuted images, learned one after the
other. **Task-incremental, multi-head:** one shared hidden layer ``h = relu(W x)`` (784 ->
``hidden``, no bias, so that the projection covers every shared parameter) and one linear
10-way head per task; the task identity picks the head at test time. A head is trained only
during its own task, so forgetting can only come from the shared layer.

**HLOP** (Xiao et al. 2024; algorithms.md §11), in a simple rate-based form: before task ``t``
the update of ``W`` is projected onto the complement of the input subspace stored for tasks
``< t``: the gradient :math:`\Delta W = \delta\, x^\top` is replaced by
:math:`\delta\, (x - H^\top H x)^\top` (:meth:`~dendrix.plasticity.HLOP.project_input` with an
orthonormal basis of the subspace neurons' rows, the same as
:meth:`~dendrix.plasticity.HLOP.project` of the gradient). After training on task ``t``,
:meth:`~dendrix.plasticity.HLOP.add_subspace` freezes the earlier subspace neurons and adds
``k`` new ones, which learn with the generalised Oja subspace rule
(:meth:`~dendrix.plasticity.HLOP.learn`) on task ``t``'s training inputs for ``hebb_epochs``
passes, so they span the principal subspace of what the earlier neurons do not explain. For
inputs inside the stored subspace the projected update leaves the hidden activations unchanged;
for an old task's real inputs the change is as small as the part of them outside the subspace.

**Methods in one table.** ``hlop`` (projection on) and ``finetune`` (the same loop, same
hyperparameters and draws, projection off). In this multi-head setting "without projection"
and "plain fine-tuning" of the shared layer are the same run, so they are one row.

**Metrics.** ``R[i, j]``: test accuracy on task ``j`` after training task ``i`` (%). ACC is the
mean of the last row, BWT the mean over ``j < T-1`` of ``R[T-1, j] - R[j, j]`` (points). The
test split is used only for these reports: every hyperparameter is fixed in the config, there
is no model selection.

**Claims.** Full config (10 tasks): ACC >= 95 % and BWT >= -1.5 points (Xiao et al. 2024,
permuted MNIST, unconfirmed figures ACC ~95.2 %, BWT ~-1.3). Not run here; estimated from
measured one-thread step costs (SGD step 1.4-2.8 ms as the stored subspace grows to 540 rows,
subspace-rule step 0.3-8 ms): 10 tasks x 2,813 SGD steps per method plus 9 x 1,876 Hebbian
steps, about 3 minutes of one CPU core in all (both methods). The quick config (3 tasks,
10,000 training images each, 1,000 test images) claims honest floors, ACC >= 85 % and
BWT >= -1 point ("quick-budget floor, not a paper figure").

Reference: Xiao M, Meng Q, Zhang Z, He D, Lin Z (2024) Hebbian learning based orthogonal
projection for continual learning of spiking neural networks. ICLR 2024 (arXiv:2402.11984).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from torch import Tensor

from dendrix.data.idx import load_mnist
from dendrix.plasticity import HLOP, HLOPState
from dendrix.recipes._training import torch_threads
from dendrix.recipes.base import Claim, Result, register_recipe

__all__ = [
    "HLOPConfig",
    "init_network",
    "orthonormal_state",
    "run",
    "run_method",
    "shared_update",
]

PAPER = (
    "Xiao M, Meng Q, Zhang Z, He D, Lin Z (2024) Hebbian learning based orthogonal projection "
    "for continual learning of spiking neural networks. ICLR 2024"
)
PAPER_SOURCE = "Xiao et al. 2024, permuted MNIST (unconfirmed figure: ACC ~95.2 %, BWT ~-1.3)"
QUICK_SOURCE = "quick-budget floor, not a paper figure"


@dataclass(frozen=True)
class HLOPConfig:
    """Budget of ``hlop-pmnist``.

    Attributes:
        seed: permutations, initial weights, subspace neurons and minibatch order.
        tasks: number of permuted-MNIST tasks.
        train_size, test_size: images per task from the start of each split (``None``: all).
        hidden: width of the shared hidden layer.
        epochs, batch_size, lr: plain SGD per task.
        k: subspace neurons added after each task; ``hebb_eta``, ``hebb_epochs``: their
            subspace rule's learning rate and passes over the task's training inputs.
        claim_acc, claim_bwt: full config: the paper's figures (ACC %, BWT points); quick
            config: unused (its floors are ACC >= 85 % and BWT >= -1 point).
    """

    seed: int = 0
    tasks: int = 10
    train_size: int | None = None
    test_size: int | None = None
    hidden: int = 512
    epochs: int = 3
    batch_size: int = 64
    lr: float = 0.1
    k: int = 60
    hebb_eta: float = 1.5e-2
    hebb_epochs: int = 2
    claim_acc: float = 95.0
    claim_bwt: float = -1.5


def init_network(config: HLOPConfig, generator: torch.Generator) -> tuple[Tensor, Tensor, Tensor]:
    """Shared layer ``W`` ``[hidden, 784]`` and heads ``V`` ``[T, 10, hidden]``, ``c`` ``[T, 10]``
    (uniform :math:`\\pm 1/\\sqrt{fan_{in}}`, as :class:`torch.nn.Linear`)."""
    h = config.hidden
    w = (torch.rand(h, 784, generator=generator) * 2 - 1) / 784**0.5
    v = (torch.rand(config.tasks, 10, h, generator=generator) * 2 - 1) / h**0.5
    c = (torch.rand(config.tasks, 10, generator=generator) * 2 - 1) / h**0.5
    return w, v, c


def orthonormal_state(state: HLOPState) -> HLOPState:
    """The same subspace with orthonormal rows (QR), so ``HLOP.project_input`` is exact."""
    if state.h.shape[0] == 0:
        return state
    q, _ = torch.linalg.qr(state.h.T)
    return HLOPState(h=q.T.contiguous(), n_frozen=q.shape[1])


def shared_update(grad_pre: Tensor, x: Tensor, hlop: HLOP, basis: HLOPState | None) -> Tensor:
    """Gradient of the shared layer, ``grad_pre.T @ x``, with HLOP's projected inputs.

    Args:
        grad_pre: loss gradient of the hidden pre-activations ``[B, hidden]``.
        x: the layer's inputs ``[B, 784]``.
        hlop: the projection.
        basis: the stored subspace (orthonormal rows, :func:`orthonormal_state`); ``None``: no
            projection (fine-tuning).
    """
    if basis is not None:
        x = hlop.project_input(x, basis)
    return grad_pre.T @ x


def _accuracy(w: Tensor, v: Tensor, c: Tensor, x: Tensor, y: Tensor) -> float:
    logits = torch.relu(x @ w.T) @ v.T + c
    return 100.0 * float((logits.argmax(1) == y).float().mean())


def run_method(
    config: HLOPConfig,
    project: bool,
    data: tuple[Tensor, Tensor, Tensor, Tensor],
    perms: list[Tensor],
) -> Tensor:
    """Train the tasks in order; returns ``R`` ``[T, T]`` (test accuracy %, row = after task)."""
    c = config
    x_train, y_train, x_test, y_test = data
    gen = torch.Generator().manual_seed(c.seed + 1)
    w, v, b = init_network(c, gen)
    hlop = HLOP(eta=c.hebb_eta)
    state = hlop.initial_state(784)
    r = torch.zeros(c.tasks, c.tasks)
    for t in range(c.tasks):
        xt = x_train[:, perms[t]]
        basis = orthonormal_state(state) if project and state.h.shape[0] else None
        for _ in range(c.epochs):
            order = torch.randperm(len(xt), generator=gen)
            for i in range(0, len(xt), c.batch_size):
                idx = order[i : i + c.batch_size]
                xb, yb = xt[idx], y_train[idx]
                pre = (xb @ w.T).requires_grad_()
                head_v = v[t].clone().requires_grad_()
                head_b = b[t].clone().requires_grad_()
                loss = F.cross_entropy(torch.relu(pre) @ head_v.T + head_b, yb)
                g_pre, g_v, g_b = torch.autograd.grad(loss, [pre, head_v, head_b])
                w -= c.lr * shared_update(g_pre, xb, hlop, basis)
                v[t] -= c.lr * g_v
                b[t] -= c.lr * g_b
        if project and t < c.tasks - 1:
            state = hlop.add_subspace(state, c.k, generator=gen)
            for _ in range(c.hebb_epochs):
                order = torch.randperm(len(xt), generator=gen)
                for i in range(0, len(xt), c.batch_size):
                    state = hlop.learn(xt[order[i : i + c.batch_size]], state)
        for j in range(t + 1):
            r[t, j] = _accuracy(w, v[j], b[j], x_test[:, perms[j]], y_test)
    return r


def _acc_bwt(r: Tensor) -> tuple[float, float]:
    n = r.shape[0]
    acc = float(r[-1].mean())
    bwt = float((r[-1, :-1] - r.diagonal()[:-1]).mean()) if n > 1 else 0.0
    return acc, bwt


def _load(config: HLOPConfig) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    x_train, y_train = load_mnist("mnist", "train")
    x_test, y_test = load_mnist("mnist", "test")
    n, m = config.train_size, config.test_size
    x_train, y_train = x_train[:n], y_train[:n]
    x_test, y_test = x_test[:m], y_test[:m]
    return (
        x_train.reshape(len(x_train), 784).float() / 255.0,
        y_train,
        x_test.reshape(len(x_test), 784).float() / 255.0,
        y_test,
    )


def _permutations(config: HLOPConfig) -> list[Tensor]:
    gen = torch.Generator().manual_seed(config.seed)
    perms = [torch.arange(784)]
    perms += [torch.randperm(784, generator=gen) for _ in range(config.tasks - 1)]
    return perms


@register_recipe(
    "hlop-pmnist",
    config=HLOPConfig(),
    quick=HLOPConfig(
        tasks=3, train_size=10000, test_size=1000, hidden=256, epochs=3, k=40, hebb_epochs=3
    ),
    title="HLOP: Hebbian orthogonal projection against forgetting on permuted MNIST",
    paper=PAPER,
)
def run(config: HLOPConfig) -> Result:
    quick = config.train_size is not None
    with torch_threads(1):
        start = time.perf_counter()
        data = _load(config)
        perms = _permutations(config)
        tables = {
            name: run_method(config, name == "hlop", data, perms) for name in ("hlop", "finetune")
        }
        wall = time.perf_counter() - start
    metrics: dict[str, float] = {}
    for name, r in tables.items():
        acc, bwt = _acc_bwt(r)
        metrics[f"{name}_acc"] = acc
        metrics[f"{name}_bwt"] = bwt
        for j in range(config.tasks):
            metrics[f"{name}_task{j}_final"] = float(r[-1, j])
            metrics[f"{name}_task{j}_just_trained"] = float(r[j, j])
    metrics["bwt_gain_over_finetune"] = metrics["hlop_bwt"] - metrics["finetune_bwt"]
    metrics["wall_time_s"] = wall
    if quick:
        claims = [
            Claim("hlop_bwt", -1.0, metrics["hlop_bwt"], "points", QUICK_SOURCE, "at_least", 0.0),
            Claim("hlop_acc", 85.0, metrics["hlop_acc"], "%", QUICK_SOURCE, "at_least", 0.0),
        ]
    else:
        claims = [
            Claim(
                "hlop_acc",
                config.claim_acc,
                metrics["hlop_acc"],
                "%",
                PAPER_SOURCE,
                "at_least",
                0.0,
            ),
            Claim(
                "hlop_bwt",
                config.claim_bwt,
                metrics["hlop_bwt"],
                "points",
                PAPER_SOURCE,
                "at_least",
                0.0,
            ),
        ]
    fig = Figure(figsize=(7, 3.5))
    ax = fig.add_subplot()
    tasks = list(range(config.tasks))
    for name, r in tables.items():
        ax.plot(tasks, r[-1].tolist(), "o-", label=f"{name}: after the last task")
        ax.plot(tasks, r.diagonal().tolist(), "x:", label=f"{name}: just after training")
    ax.set_xlabel("task")
    ax.set_ylabel("test accuracy (%)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    notes = (
        f"{config.tasks} permuted-MNIST tasks, multi-head, one shared hidden layer of "
        f"{config.hidden} ReLU units; HLOP adds {config.k} subspace neurons per task. "
        "ACC/BWT from the test split, no model selection on it."
    )
    return Result(
        metrics=metrics,
        claims=claims,
        figures={"accuracy": fig},
        data=[
            "mnist/train-images-idx3-ubyte.gz",
            "mnist/train-labels-idx1-ubyte.gz",
            "mnist/t10k-images-idx3-ubyte.gz",
            "mnist/t10k-labels-idx1-ubyte.gz",
        ],
        notes=notes,
    )
