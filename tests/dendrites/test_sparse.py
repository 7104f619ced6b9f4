"""Behavioural tests for sparse weights, the CNN-2 networks and the noise score."""

from __future__ import annotations

import doctest
import io

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dendrix.dendrites.sparse import (
    NOISE_LEVELS,
    DenseCNN,
    SparseCNN,
    SparseConv2d,
    SparseLinear,
    SparseWeights,
    add_pixel_noise,
    noise_score,
    rezero_weights,
    sparse_mask,
    update_boost_strength,
)
from dendrix.sdr.kwinners import KWinners, KWinners2d


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ------------------------------------------------------------------------------------------
# Masks and sparse layers
# ------------------------------------------------------------------------------------------


def test_mask_has_exactly_the_requested_count_per_output_unit():
    mask = sparse_mask((7, 3, 5, 4), 0.25, _gen())  # fan-in 60 -> 15 per unit
    assert mask.dtype == torch.bool and mask.shape == (7, 3, 5, 4)
    assert mask.flatten(1).sum(1).tolist() == [15] * 7


def test_mask_is_reproducible_from_the_generator_and_differs_between_seeds():
    assert torch.equal(sparse_mask((5, 40), 0.3, _gen(1)), sparse_mask((5, 40), 0.3, _gen(1)))
    assert not torch.equal(sparse_mask((5, 40), 0.3, _gen(1)), sparse_mask((5, 40), 0.3, _gen(2)))


def test_a_tiny_density_still_keeps_one_weight_per_unit():
    assert sparse_mask((3, 10), 0.01, _gen()).sum(1).tolist() == [1, 1, 1]


@pytest.mark.parametrize(
    ("make_optimiser", "kind"),
    [
        (lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=1e-2), "linear"),
        (lambda p: torch.optim.Adam(p, lr=0.05), "linear"),
        (lambda p: torch.optim.AdamW(p, lr=0.05, weight_decay=0.1), "conv"),
        (lambda p: torch.optim.SGD(p, lr=0.1), "conv"),
    ],
)
def test_weights_stay_sparse_after_optimiser_steps_at_the_requested_density(make_optimiser, kind):
    if kind == "linear":
        layer = SparseLinear(20, 8, density=0.3, generator=_gen())
        x = torch.randn(16, 20, generator=_gen(1))
    else:
        layer = SparseConv2d(4, 6, 3, density=0.25, generator=_gen())  # fan-in 36 -> 9
        x = torch.randn(4, 4, 7, 7, generator=_gen(1))
    before = layer.mask.clone()
    opt = make_optimiser(layer.parameters())
    for _ in range(5):
        loss = layer(x).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    weight = layer.module.weight
    assert torch.equal(layer.mask, before)
    assert bool((weight[~layer.mask] == 0).all())
    assert float((weight != 0).float().mean()) == pytest.approx(0.3 if kind == "linear" else 0.25)


def test_masked_weights_get_no_gradient_and_the_layer_computes_with_w_times_m():
    layer = SparseLinear(10, 5, density=0.4, generator=_gen())
    x = torch.randn(3, 10, generator=_gen(1))
    y = layer(x)
    assert torch.allclose(y, F.linear(x, layer.module.weight * layer.mask, layer.module.bias))
    y.sum().backward()
    assert bool((layer.module.weight.grad[~layer.mask] == 0).all())


def test_rezero_restores_sparsity_after_a_direct_write():
    layer = SparseWeights(nn.Linear(6, 4), density=0.5, generator=_gen())
    with torch.no_grad():
        layer.module.weight.fill_(1.0)
    model = nn.Sequential(layer, nn.ReLU())
    rezero_weights(model)
    assert torch.equal(layer.module.weight != 0, layer.mask)


def test_mask_travels_with_the_state_dict_into_a_fresh_layer():
    layer = SparseLinear(12, 6, density=0.5, generator=_gen(1))
    buffer = io.BytesIO()
    torch.save(layer.state_dict(), buffer)
    buffer.seek(0)
    fresh = SparseLinear(12, 6, density=0.5, generator=_gen(2))
    assert not torch.equal(fresh.mask, layer.mask)
    fresh.load_state_dict(torch.load(buffer, weights_only=True))
    assert torch.equal(fresh.mask, layer.mask)
    x = torch.randn(2, 12, generator=_gen(3))
    assert torch.equal(fresh(x), layer(x))


# ------------------------------------------------------------------------------------------
# Noise
# ------------------------------------------------------------------------------------------


def test_noise_at_level_zero_leaves_the_input_unchanged():
    x = torch.rand(5, 1, 28, 28, generator=_gen())
    noisy = add_pixel_noise(x, 0.0, _gen(1))
    assert torch.equal(noisy, x) and noisy is not x


def test_noise_replaces_floor_level_times_p_pixels_per_image_without_touching_the_input():
    x = torch.zeros(6, 1, 28, 28)
    for level, count in [(0.05, 39), (0.15, 117), (0.5, 392)]:
        noisy = add_pixel_noise(x, level, _gen(), fill=-1.0)
        assert (noisy == -1.0).flatten(1).sum(1).tolist() == [count] * 6
    assert bool((x == 0).all())
    uniform = add_pixel_noise(x - 5.0, 0.5, _gen())
    changed = uniform[uniform != -5.0]
    assert changed.numel() == 6 * 392 and bool((changed >= 0).all() and (changed < 1).all())


class _Oracle(nn.Module):
    """Classifies by reading the label hidden in pixel 0 (a perfect model on clean input)."""

    def forward(self, x):
        return F.one_hot(x.flatten(1)[:, 0].round().long(), 10).float()


def test_noise_score_sums_correct_counts_over_levels():
    y = torch.arange(10).repeat(3)
    x = torch.zeros(30, 1, 4, 4)
    x[:, 0, 0, 0] = y.float()
    clean = noise_score(_Oracle(), x, y, levels=[0.0], generator=_gen())
    assert clean.score == 30 and clean.total == 30
    full = noise_score(_Oracle(), x, y, generator=_gen(), batch_size=7)
    assert full.levels == NOISE_LEVELS and len(full.correct) == 11
    assert full.correct[0] == 30 and full.score == sum(full.correct) <= 330
    again = noise_score(_Oracle(), x, y, generator=_gen(), batch_size=7)
    assert again == full  # the generator fixes the noise


def test_noise_score_restores_the_training_mode():
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3)).train()
    noise_score(model, torch.rand(5, 2, 2), torch.zeros(5, dtype=torch.long), levels=[0.1])
    assert model.training


# ------------------------------------------------------------------------------------------
# CNN-2
# ------------------------------------------------------------------------------------------


def test_cnn2_shapes_sparsity_and_boost_decay():
    sparse = SparseCNN(generator=_gen())
    dense = DenseCNN(channels=(32, 64), hidden=700, generator=_gen())
    x = torch.randn(3, 1, 28, 28, generator=_gen(1))
    assert sparse(x).shape == (3, 10) and dense(x).shape == (3, 10)
    linear = next(m for m in sparse.modules() if isinstance(m, SparseWeights))
    assert linear.module.weight.shape == (700, 1024)
    assert float(linear.mask.float().mean()) == pytest.approx(307 / 1024)  # round(0.3 * 1024)
    # the authors' winner counts (c1_k = "400_300", k = 100), in training mode
    for depth, winners in ((3, 400), (6, 300), (9, 100)):
        out = sparse.layers[:depth](x).flatten(1)
        assert (out != 0).sum(1).tolist() == [winners] * 3
    kw = [m for m in sparse.modules() if isinstance(m, (KWinners, KWinners2d))]
    assert len(kw) == 3
    update_boost_strength(sparse)
    assert all(float(m.boost_strength) == pytest.approx(1.5 * 0.85) for m in kw)
    assert sum(p.numel() for p in sparse.parameters()) == sum(p.numel() for p in dense.parameters())


def test_the_default_dense_cnn2_is_the_papers_30_30_1000_network():
    dense = DenseCNN(generator=_gen())
    convs = [m for m in dense.modules() if isinstance(m, nn.Conv2d)]
    linears = [m for m in dense.modules() if isinstance(m, nn.Linear)]
    assert [c.out_channels for c in convs] == [30, 30]
    assert [tuple(m.weight.shape) for m in linears] == [(1000, 480), (10, 1000)]


def test_the_sparse_hidden_layer_keeps_pytorch_bounds_unless_normalized():
    bound = 1.0 / 1024**0.5  # PyTorch's default for a fan-in of 64 x 4 x 4

    def hidden_weights(**kwargs: object) -> torch.Tensor:
        net = SparseCNN(generator=_gen(), **kwargs)
        layer = next(m for m in net.modules() if isinstance(m, SparseWeights))
        return layer.masked_weight().detach()

    assert float(hidden_weights().abs().max()) <= bound
    normalized = hidden_weights(normalize_weights=True).abs()
    assert float(normalized.max()) > 1.5 * bound  # scaled up by 1/sqrt(0.3) = 1.83
    assert float(normalized.max()) <= bound / 0.3**0.5


# ------------------------------------------------------------------------------------------
# Bad input
# ------------------------------------------------------------------------------------------


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="density"):
        SparseLinear(4, 2, density=0.0)
    with pytest.raises(ValueError, match="density"):
        sparse_mask((2, 3), 1.5)
    with pytest.raises(TypeError, match=r"module must be an nn\.Linear"):
        SparseWeights(nn.ReLU(), density=0.5)
    with pytest.raises(ValueError, match="level"):
        add_pixel_noise(torch.zeros(2, 4), 1.2)
    with pytest.raises(TypeError, match="x must have a floating dtype"):
        add_pixel_noise(torch.zeros(2, 4, dtype=torch.uint8), 0.1)
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
    with pytest.raises(ValueError, match="same length"):
        noise_score(model, torch.zeros(3, 4), torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match=r"levels\[1\]"):
        noise_score(model, torch.zeros(3, 4), torch.zeros(3, dtype=torch.long), levels=[0, -0.1])
    with pytest.raises(TypeError, match="y must have a integer dtype"):
        noise_score(model, torch.zeros(3, 4), torch.zeros(3))


def test_docstring_examples_run():
    import dendrix.dendrites.sparse as module

    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
