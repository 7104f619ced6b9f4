"""Neuron modules under DistributedDataParallel and DataParallel (CPU, gloo backend).

Two processes each train on half a batch; DDP must average their gradients, so every rank
ends with the gradient of the full batch computed in one process. This fails if a neuron keeps
state or parameters outside what nn.Module registers.
"""

from __future__ import annotations

import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from dendrix.spiking import ALIF, LIF


def _model() -> nn.Module:
    torch.manual_seed(0)  # same initial weights in every process (forked RNG state is local)
    return nn.Sequential(
        nn.Linear(12, 8),
        LIF(8, learn_tau=True, learn_threshold=True, return_state=False),
        nn.Linear(8, 8),
        ALIF(8, learn_tau=True, return_state=False),
    )


def _inputs() -> torch.Tensor:
    return torch.rand(20, 6, 12, generator=torch.Generator().manual_seed(1)) * 1.5


def _loss(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    z = model(x)  # [T, B, 8]
    w = torch.linspace(-1, 1, z.shape[-1])
    return (z.sum(0) * w).sum() / x.shape[1]


def _worker(rank: int, world: int, port: int, out_dir: str) -> None:
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        torch.set_num_threads(1)
        model = nn.parallel.DistributedDataParallel(_model())
        x = _inputs()[:, rank * 3 : (rank + 1) * 3]
        _loss(model, x).backward()
        grads = {k: p.grad.clone() for k, p in model.module.named_parameters()}
        torch.save(grads, os.path.join(out_dir, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not dist.is_available(), reason="torch.distributed is not available")
def test_ddp_averages_neuron_parameter_gradients_across_two_processes(tmp_path):
    mp.spawn(_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True)
    # one process, both halves: DDP's average of the two half-batch gradients
    model = _model()
    x = _inputs()
    expected = {}
    for half in (x[:, :3], x[:, 3:]):
        model.zero_grad()
        _loss(model, half).backward()
        for k, p in model.named_parameters():
            expected[k] = expected.get(k, 0) + p.grad / 2
    for rank in (0, 1):
        got = torch.load(tmp_path / f"rank{rank}.pt", weights_only=True)
        assert set(got) == set(expected)
        assert any("tau_mem" in k for k in got)
        for k in expected:
            torch.testing.assert_close(got[k], expected[k], rtol=1e-5, atol=1e-6)


def test_data_parallel_wrapper_gives_the_same_spikes_and_gradients():
    model = _model()
    wrapped = nn.DataParallel(_model())  # no GPU: DataParallel calls the module directly
    x = _inputs()
    assert torch.equal(model(x), wrapped(x))
    _loss(model, x).backward()
    _loss(wrapped, x).backward()
    for (k, a), (_, b) in zip(
        model.named_parameters(), wrapped.module.named_parameters(), strict=True
    ):
        torch.testing.assert_close(a.grad, b.grad, msg=k)
