"""Helpers shared by the recipes (dendrix.recipes._training)."""

from __future__ import annotations

import pytest
import torch

from dendrix.recipes._training import resolve_device


def test_auto_picks_the_gpu_when_there_is_one_else_the_cpu():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected


def test_a_named_cpu_is_the_cpu():
    assert resolve_device("cpu") == torch.device("cpu")


@pytest.mark.parametrize("name", ["gpu0", "", "cuda:x"])
def test_a_malformed_device_name_is_rejected_naming_the_argument(name):
    with pytest.raises(ValueError, match="device="):
        resolve_device(name)


def test_a_cuda_device_the_machine_lacks_is_rejected_naming_the_argument():
    with pytest.raises(ValueError, match=r"device='cuda:.*CUDA device"):
        resolve_device(f"cuda:{torch.cuda.device_count()}")
