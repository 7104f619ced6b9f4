"""What the permuted-MNIST recipe reports (dendrix.recipes.active_dendrites)."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from dendrix.recipes.active_dendrites import _claims, _run
from dendrix.recipes.base import RECIPES

TINY = dataclasses.replace(
    RECIPES["active-dendrites-pmnist"].quick,
    num_tasks=2,
    train_size=200,
    test_size=50,
    hidden=16,
    hidden_si=16,
    epochs=1,
    epochs_mlp=1,
    epochs_si=1,
)


def test_a_run_of_some_models_names_the_ones_it_did_not_train():
    result = _run(dataclasses.replace(TINY, models=("mlp", "dendrites")))
    assert "Not trained in this run: dendrites+si, si." in result.notes
    assert {"avg_accuracy_mlp", "avg_accuracy_dendrites"} <= result.metrics.keys()
    assert not any(key.endswith("_si") for key in result.metrics)


def test_a_run_of_every_model_names_none_as_missing():
    result = _run(TINY)
    assert "Not trained" not in result.notes


def test_a_checkpoint_resumes_in_a_run_that_lists_other_models(tmp_path):
    config = dataclasses.replace(TINY, checkpoint_dir=str(tmp_path), models=("mlp",))
    alone = _run(config)
    both = _run(dataclasses.replace(config, models=("mlp", "dendrites"), test_size=40))
    # 2 tasks x 1 epoch, none retrained
    assert "resumed after epoch {'mlp seed 0': 2}" in both.notes
    assert both.metrics["train_seconds_mlp"] == alone.metrics["train_seconds_mlp"]


def test_a_run_of_several_seeds_averages_the_single_seed_runs(tmp_path):
    config = dataclasses.replace(TINY, models=("mlp", "dendrites"), checkpoint_dir=str(tmp_path))
    both = _run(dataclasses.replace(config, seeds=2))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "dendrites-s0.pt", "dendrites-s1.pt", "mlp-s0.pt", "mlp-s1.pt"
    ]  # fmt: skip
    fresh = dataclasses.replace(config, checkpoint_dir="")
    one = [_run(dataclasses.replace(fresh, seed=s)).metrics for s in (0, 1)]
    for key in ("avg_accuracy_mlp", "avg_accuracy_dendrites"):
        assert both.metrics[f"{key}_seed0"] == pytest.approx(one[0][key])
        assert both.metrics[f"{key}_seed1"] == pytest.approx(one[1][key])
        assert both.metrics[key] == pytest.approx((one[0][key] + one[1][key]) / 2)
        assert both.metrics[f"{key}_std"] == pytest.approx(abs(one[0][key] - one[1][key]) / 2**0.5)
    assert one[0]["avg_accuracy_dendrites"] != one[1]["avg_accuracy_dendrites"]  # seeds differ
    assert "means over 2 seeds" in both.notes


def test_si_seeds_trains_the_si_models_on_the_first_seeds_only(tmp_path):
    config = dataclasses.replace(
        TINY, models=("dendrites", "si"), checkpoint_dir=str(tmp_path), seeds=2, si_seeds=1
    )
    result = _run(config)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "dendrites-s0.pt", "dendrites-s1.pt", "si-s0.pt"
    ]  # fmt: skip
    alone = _run(
        dataclasses.replace(config, models=("si",), seeds=1, si_seeds=None, checkpoint_dir="")
    )
    assert result.metrics["avg_accuracy_si"] == pytest.approx(alone.metrics["avg_accuracy_si"])
    assert (result.metrics["seeds_si"], result.metrics["seeds_dendrites"]) == (1, 2)
    assert "avg_accuracy_si_std" not in result.metrics
    assert "avg_accuracy_dendrites_std" in result.metrics
    assert "si over its first 1 seed only" in result.notes


def test_each_claim_says_over_how_many_seeds_its_model_ran():
    config = dataclasses.replace(
        RECIPES["active-dendrites-pmnist"].config, models=("dendrites", "si"), seeds=3, si_seeds=1
    )
    metrics = {"avg_accuracy_dendrites": 94.0, "avg_accuracy_si": 97.0}
    sources = {
        c.metric: c.source for c in _claims(config, metrics | {"train_images_per_task": 60_000})
    }
    assert "ours mean of 3 seeds" in sources["avg_accuracy_dendrites"]
    assert "ours one seed" in sources["avg_accuracy_si"]


def test_si_seeds_cannot_exceed_seeds():
    with pytest.raises(ValueError, match="si_seeds"):
        _run(dataclasses.replace(TINY, seeds=1, si_seeds=2))


def test_the_models_in_raw_pixels_see_x_over_255_and_the_others_normalised_pixels(tmp_path):
    config = dataclasses.replace(
        TINY,
        checkpoint_dir=str(tmp_path),
        models=("dendrites+si", "dendrites"),
        raw_pixels=("dendrites+si",),
    )
    _run(config)
    raw = torch.load(tmp_path / "dendrites-si-s0.pt", weights_only=False)["prototypes"][
        "prototypes"
    ]
    norm = torch.load(tmp_path / "dendrites-s0.pt", weights_only=False)["prototypes"]["prototypes"]
    assert float(raw.min()) >= 0.0 and float(raw.max()) <= 1.0  # means of x / 255
    assert float(norm.min()) < 0.0  # background pixels are (0 - 0.1307) / 0.3081


def test_the_si_mlp_trains_at_its_own_learning_rate(tmp_path):
    _run(dataclasses.replace(TINY, checkpoint_dir=str(tmp_path), models=("si", "mlp"), lr_si=0.004))
    si = torch.load(tmp_path / "si-s0.pt", weights_only=False)["optimiser"]
    mlp = torch.load(tmp_path / "mlp-s0.pt", weights_only=False)["optimiser"]
    assert si["param_groups"][0]["lr"] == 0.004
    assert mlp["param_groups"][0]["lr"] == TINY.lr_mlp


def test_an_si_only_setting_leaves_the_other_models_checkpoints_valid(tmp_path):
    config = dataclasses.replace(TINY, checkpoint_dir=str(tmp_path), models=("dendrites", "si"))
    _run(config)
    changed = dataclasses.replace(config, si_rectify=not config.si_rectify)
    with pytest.raises(ValueError, match="different config"):
        _run(changed)  # the SI-MLP's checkpoint was written with the other setting
    again = _run(dataclasses.replace(changed, models=("dendrites",)))
    assert "resumed after epoch {'dendrites seed 0': 2}" in again.notes


def test_the_run_says_which_device_it_trained_on():
    result = _run(dataclasses.replace(TINY, models=("mlp",), device="cpu"))
    assert "Device: cpu." in result.notes


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_cuda_run_learns_like_a_cpu_run():
    config = dataclasses.replace(TINY, models=("dendrites", "mlp"))
    cpu = _run(dataclasses.replace(config, device="cpu")).metrics
    gpu = _run(dataclasses.replace(config, device="cuda")).metrics
    for key in ("avg_accuracy_dendrites", "avg_accuracy_mlp"):
        assert abs(gpu[key] - cpu[key]) <= 10.0, key  # rounding differs; both must learn
        assert gpu[key] > 50.0, key


def test_dendrites_with_si_see_normalised_pixels_by_default(tmp_path):
    config = RECIPES["active-dendrites-pmnist"].config
    tiny = dataclasses.replace(TINY, checkpoint_dir=str(tmp_path), models=("dendrites+si",))
    _run(dataclasses.replace(tiny, raw_pixels=config.raw_pixels))
    saved = torch.load(tmp_path / "dendrites-si-s0.pt", weights_only=False)
    assert float(saved["prototypes"]["prototypes"].min()) < 0.0  # background (0 - 0.1307) / 0.3081


def test_raw_pixels_names_only_known_models():
    with pytest.raises(ValueError, match="raw_pixels must be one of"):
        _run(dataclasses.replace(TINY, raw_pixels=("cnn",)))


def _adam_steps(path) -> set[int]:
    state = torch.load(path, weights_only=False)["optimiser"]["state"]
    return {int(s["step"]) for s in state.values()}


def test_the_models_in_reset_optimizer_start_each_task_with_a_fresh_adam(tmp_path):
    # 600 images in batches of 256: 3 steps per task, 2 tasks
    config = dataclasses.replace(
        TINY,
        train_size=600,
        batch_size=256,
        checkpoint_dir=str(tmp_path),
        models=("dendrites", "dendrites+si"),
    )
    assert config.reset_optimizer == ("dendrites", "mlp")  # the authors' default, not SI's
    _run(config)
    assert _adam_steps(tmp_path / "dendrites-s0.pt") == {3}  # the last task's steps only
    assert _adam_steps(tmp_path / "dendrites-si-s0.pt") == {6}
    kept = tmp_path / "kept"
    _run(dataclasses.replace(config, checkpoint_dir=str(kept), reset_optimizer=()))
    assert _adam_steps(kept / "dendrites-s0.pt") == {6}


def test_a_checkpoint_trained_with_another_reset_setting_is_refused(tmp_path):
    config = dataclasses.replace(TINY, checkpoint_dir=str(tmp_path), models=("dendrites",))
    _run(dataclasses.replace(config, reset_optimizer=()))
    with pytest.raises(ValueError, match="different config"):
        _run(config)


def test_reset_optimizer_names_only_known_models():
    with pytest.raises(ValueError, match="reset_optimizer must be one of"):
        _run(dataclasses.replace(TINY, reset_optimizer=("adam",)))
