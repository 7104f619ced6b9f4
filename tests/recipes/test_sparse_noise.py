"""The sparse-noise recipe's data split (dendrix.recipes.sparse_noise)."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from dendrix.recipes.base import RECIPES
from dendrix.recipes.sparse_noise import SparseNoiseConfig, run

TINY = dataclasses.replace(
    RECIPES["sparse-noise"].quick,
    train_size=128,
    test_size=40,
    first_batch_size=32,
    models=("dense",),
)


def test_without_a_validation_split_every_training_image_is_used_and_no_curve_is_reported():
    result = run(dataclasses.replace(TINY, val_size=0))
    assert result.metrics["train_images"] == 128
    assert not any(key.startswith("val_accuracy") for key in result.metrics)
    assert "held out" not in result.notes


def test_a_validation_split_is_reported_and_named_in_the_notes():
    result = run(dataclasses.replace(TINY, val_size=50))
    assert result.metrics["train_images"] == 128
    assert 0.0 <= result.metrics["val_accuracy_last_epoch_dense"] <= 100.0
    assert "50 held out for validation" in result.notes


def test_the_full_config_trains_on_all_60000_images_like_the_paper():
    assert SparseNoiseConfig().val_size == 0
    assert SparseNoiseConfig().train_size is None


def test_a_negative_validation_size_is_rejected_naming_it():
    with pytest.raises(ValueError, match="val_size"):
        run(dataclasses.replace(TINY, val_size=-1))


def test_a_network_trained_in_another_process_is_resumed_not_retrained(tmp_path):
    config = dataclasses.replace(
        TINY, models=("sparse", "dense"), epochs=1, epochs_dense=1, checkpoint_dir=str(tmp_path)
    )
    run(dataclasses.replace(config, models=("dense",), threads=2))
    result = run(config)
    assert "resumed after epoch {'dense seed 0': 1}" in result.notes
    assert "sparse seed" not in result.notes


def test_each_epoch_trains_at_the_rate_the_authors_scheduler_gives_it(monkeypatch):
    seen: list[float] = []
    original = torch.optim.SGD.step

    def record(self, *args, **kwargs):
        seen.append(self.param_groups[0]["lr"])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.SGD, "step", record)
    run(dataclasses.replace(TINY, epochs_dense=2, lr_dense=0.5, lr_gamma=0.1, train_size=32))
    # StepLR stepped before each epoch under PyTorch 1.0.1 (the authors' pin) does not skip
    # the first rate: 0.5 in the first epoch, 0.5 * 0.1 in the second
    assert sorted(set(seen), reverse=True) == pytest.approx([0.5, 0.05])
