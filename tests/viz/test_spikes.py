"""Spike plots: the drawn data equal hand-made coordinates; PNGs are written; inputs checked."""

from __future__ import annotations

import doctest

import pytest
import torch
from matplotlib.figure import Figure

from dendrix.viz.spikes import membrane_plot, raster_plot, rate_histogram

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def hand_raster() -> torch.Tensor:
    """[T=5, N=3] with spikes at (t, n) = (0, 1), (2, 0), (2, 2), (4, 1)."""
    z = torch.zeros(5, 3)
    for t, n in ((0, 1), (2, 0), (2, 2), (4, 1)):
        z[t, n] = 1.0
    return z


def offsets(fig: Figure) -> list[list[float]]:
    return fig.axes[0].collections[0].get_offsets().tolist()


def test_raster_dots_sit_at_the_spike_coordinates():
    fig = raster_plot(hand_raster())
    assert isinstance(fig, Figure)
    assert offsets(fig) == [[0.0, 1.0], [2.0, 0.0], [2.0, 2.0], [4.0, 1.0]]
    assert fig.axes[0].get_xlabel() == "time step"


def test_raster_scales_time_by_dt():
    fig = raster_plot(hand_raster().bool(), dt=0.5)
    assert offsets(fig) == [[0.0, 1.0], [1.0, 0.0], [1.0, 2.0], [2.0, 1.0]]
    assert fig.axes[0].get_xlabel() == "time (s)"


def test_raster_of_a_batch_plots_the_chosen_sample():
    z = torch.zeros(5, 2, 3)
    z[:, 1] = hand_raster()
    z[3, 0, 0] = 1.0  # only in sample 0
    assert offsets(raster_plot(z, batch_index=1)) == [
        [0.0, 1.0],
        [2.0, 0.0],
        [2.0, 2.0],
        [4.0, 1.0],
    ]
    assert offsets(raster_plot(z, batch_index=0)) == [[3.0, 0.0]]


def test_raster_draws_into_a_given_axes():
    fig = Figure()
    ax = fig.subplots()
    assert raster_plot(hand_raster(), ax=ax) is fig
    assert len(ax.collections) == 1


def test_figures_save_as_non_empty_pngs(tmp_path):
    v = torch.linspace(0.0, 1.0, 20).unsqueeze(1).repeat(1, 2)
    for name, fig in (
        ("raster", raster_plot(hand_raster())),
        ("membrane", membrane_plot(v, threshold=0.8, dt=1e-3)),
        ("rates", rate_histogram(hand_raster(), 1e-3)),
    ):
        path = tmp_path / f"{name}.png"
        fig.savefig(path)
        data = path.read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 1000, name


def test_membrane_traces_equal_the_chosen_columns():
    v = torch.tensor([[0.0, 1.0, -1.0], [0.5, 0.75, -0.5], [1.0, 0.25, 0.0]])  # [T=3, N=3]
    fig = membrane_plot(v, neurons=[2, 0], threshold=0.9, dt=0.1)
    lines = fig.axes[0].lines
    assert len(lines) == 3  # two neurons, then the threshold
    assert lines[0].get_ydata().tolist() == [-1.0, -0.5, 0.0]
    assert lines[1].get_ydata().tolist() == [0.0, 0.5, 1.0]
    assert lines[0].get_xdata().tolist() == pytest.approx([0.0, 0.1, 0.2])
    assert [float(y) for y in lines[2].get_ydata()] == [0.9, 0.9]
    assert lines[0].get_label() == "neuron 2"


def test_membrane_of_a_batch_and_default_neurons():
    v = torch.zeros(4, 2, 2)
    v[:, 1, 1] = torch.tensor([1.0, 2.0, 3.0, 4.0])
    lines = membrane_plot(v, batch_index=1).axes[0].lines
    assert len(lines) == 2 and lines[1].get_ydata().tolist() == [1.0, 2.0, 3.0, 4.0]


def test_rate_histogram_counts_neurons_per_rate_bin():
    # T = 5 steps of 10 ms = 50 ms: counts [1, 2, 1] -> rates [20, 40, 20] Hz.
    fig = rate_histogram(hand_raster(), 0.01, bins=[0.0, 30.0, 60.0])
    heights = [float(p.get_height()) for p in fig.axes[0].patches]
    assert heights == [2.0, 1.0]


def test_rate_histogram_pools_samples_of_a_batch():
    z = torch.zeros(4, 2, 2)  # T = 4, dt = 0.25 s: 1 s window, rate = count
    z[:, 0, 0] = 1.0  # 4 Hz
    z[0, 1, 1] = 1.0  # 1 Hz; two neurons at 0 Hz
    fig = rate_histogram(z, 0.25, bins=[0.0, 0.5, 2.0, 5.0])
    assert [float(p.get_height()) for p in fig.axes[0].patches] == [2.0, 1.0, 1.0]


def test_inputs_are_validated():
    z = hand_raster()
    with pytest.raises(ValueError, match="pass batch_index"):
        raster_plot(z.unsqueeze(1))
    with pytest.raises(ValueError, match="batch_index=0 was given"):
        raster_plot(z, batch_index=0)
    with pytest.raises(ValueError, match=r"batch_index must be an integer in \[0, 0\]"):
        raster_plot(z.unsqueeze(1), batch_index=1)
    with pytest.raises(ValueError, match=r"z must be \[T, N\] or \[T, B, N\]"):
        raster_plot(z[0])
    with pytest.raises(ValueError, match="0 or 1 only"):
        raster_plot(z * 0.5)
    with pytest.raises(ValueError, match="dt must be"):
        raster_plot(z, dt=0.0)
    with pytest.raises(ValueError, match=r"neurons\[1\] must be an integer in \[0, 2\]"):
        membrane_plot(z, neurons=[0, 3])
    with pytest.raises(ValueError, match="v contains 1 NaN"):
        membrane_plot(torch.tensor([[float("nan")], [0.0]]))
    with pytest.raises(TypeError, match="v must have a floating dtype"):
        membrane_plot(z.bool())
    with pytest.raises(ValueError, match="increasing edges"):
        rate_histogram(z, 0.01, bins=[1.0, 0.0])
    with pytest.raises(ValueError, match="0 or 1 only"):
        rate_histogram(z * 2, 0.01)
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        raster_plot(z, ax="left")


def test_docstring_examples_run():
    import dendrix.viz.spikes as module

    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
