"""NIR export and import (dendrix.spiking.nir): the parameter map checked by hand, exact round
trips, the errors for what NIR cannot express, and snnTorch's and Norse's NIR importers
reproducing dendrix's spikes. Tests that need ``nir`` (or a peer) skip cleanly without it."""

from __future__ import annotations

import math
import sys
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from dendrix.spiking import ALIF, LIF, CubaLIF, Izhikevich, RecurrentLIF, StochasticLIF
from dendrix.spiking.delays import Delay, DelayedLinear
from dendrix.spiking.nir import SpikingSequential, from_nir, to_nir

F32 = torch.float32


@pytest.fixture
def nir():
    return pytest.importorskip("nir")


def _lif(shape, **kwargs):
    return LIF(shape, reset="zero", return_state=False, **kwargs)


def _cuba(shape, **kwargs):
    return CubaLIF(shape, reset="zero", return_state=False, **kwargs)


def _seeded(layer, seed):
    """Weights and bias from U(-b, b), b = 1/sqrt(fan_in) (torch's default), drawn from a seed."""
    g = torch.Generator().manual_seed(seed)
    bound = layer.weight[0].numel() ** -0.5
    with torch.no_grad():
        for p in layer.parameters():
            p.uniform_(-bound, bound, generator=g)
    return layer


def _linear(in_features, out_features, seed):
    return _seeded(nn.Linear(in_features, out_features), seed)


def _dense_net(dt=1e-3, seed=0):
    """Linear -> LIF (per-neuron tau and threshold) -> Linear -> LIF."""
    g = torch.Generator().manual_seed(seed)
    tau = dt * (2.0 + 20.0 * torch.rand(16, generator=g))
    v_th = 0.8 + 0.4 * torch.rand(16, generator=g)
    return nn.Sequential(
        _linear(8, 16, seed),
        _lif(16, tau_mem=tau, v_th=v_th, dt=dt),
        _linear(16, 4, seed + 1),
        _lif(4, tau_mem=7 * dt, v_th=0.8, v_reset=-0.1, dt=dt),
    )


def _input(*shape, seed=0, scale=1.5):
    return scale * torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


def _assert_same_parameters(a: nn.Module, b: nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for key in sa:
        assert sa[key].data_ptr() != sb[key].data_ptr()  # two objects, not one with itself
        assert torch.equal(sa[key], sb[key]), key


# -- optional dependency ---------------------------------------------------------------------


def test_calling_without_nir_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "nir", None)  # `import nir` now fails as if absent
    with pytest.raises(ImportError, match=r"pip install 'dendrix\[nir\]'"):
        to_nir(nn.Sequential(_lif(3)), dt=1e-3, input_shape=3)
    with pytest.raises(ImportError, match=r"pip install 'dendrix\[nir\]'"):
        from_nir("graph.nir", dt=1e-3)


# -- the parameter map, by hand --------------------------------------------------------------


def test_lif_map_by_hand(nir):
    """tau_mem = 5 ms, dt = 1 ms: beta = e^-0.2, NIR tau = dt/(1 - beta) = 5.5167 ms, R = tau/dt."""
    dt = 1e-3
    graph = to_nir(
        nn.Sequential(_lif(3, tau_mem=5e-3, v_th=1.0, v_reset=0.25, dt=dt)), dt=dt, input_shape=3
    )
    node = graph.nodes["0"]
    assert isinstance(node, nir.LIF)
    beta = math.exp(-0.2)  # 0.8187307530779818
    assert node.tau == pytest.approx(np.full(3, 1e-3 / (1 - beta)), rel=1e-6)
    assert node.tau[0] == pytest.approx(5.516655566e-3, rel=1e-6)
    assert node.r == pytest.approx(np.full(3, 5.516655566), rel=1e-6)
    assert np.array_equal(node.v_leak, np.zeros(3))
    assert np.array_equal(node.v_reset, np.full(3, 0.25))
    # one Euler step of tau dv/dt = -v + R I is v <- (1 - dt/tau) v + (R dt/tau) I: exactly
    # dendrix's float32 decay, and unit input gain
    dendrix_beta = torch.exp(-dt / torch.tensor(5e-3, dtype=F32))
    assert torch.equal(torch.tensor(1 - dt / node.tau, dtype=F32), dendrix_beta.expand(3))
    assert node.r * dt / node.tau == pytest.approx(np.ones(3), rel=1e-12)
    # dendrix fires at h >= 1, NIR at v > v_th: v_th is the float32 just below 1
    assert node.v_threshold.dtype == np.float32
    assert np.array_equal(node.v_threshold, np.full(3, 1 - 2.0**-24, dtype=np.float32))


def test_cuba_lif_map_by_hand(nir):
    dt = 1e-3
    graph = to_nir(
        nn.Sequential(_cuba(2, tau_syn=2e-3, tau_mem=10e-3, dt=dt)), dt=dt, input_shape=2
    )
    node = graph.nodes["0"]
    assert isinstance(node, nir.CubaLIF)
    alpha, beta = math.exp(-0.5), math.exp(-0.1)
    assert node.tau_syn == pytest.approx(np.full(2, dt / (1 - alpha)), rel=1e-6)  # 2.541 ms
    assert node.w_in == pytest.approx(np.full(2, 1 / (1 - alpha)), rel=1e-6)
    assert node.tau_mem == pytest.approx(np.full(2, dt / (1 - beta)), rel=1e-6)  # 10.508 ms
    assert node.r == pytest.approx(np.full(2, 1 / (1 - beta)), rel=1e-6)


# -- dendrix -> NIR -> dendrix -----------------------------------------------------------------


def test_round_trip_linear_lif_is_exact(nir, tmp_path):
    net = _dense_net()
    graph = to_nir(net, dt=1e-3, input_shape=8)
    assert list(graph.nodes) == ["input", "0", "1", "2", "3", "output"]
    assert isinstance(graph.nodes["0"], nir.Affine)
    x = _input(60, 5, 8)
    expected = net(x)
    assert 0 < expected.sum() < expected.numel()  # the test sees spikes and silences
    copy = from_nir(graph, dt=1e-3)
    assert torch.equal(copy(x), expected)
    _assert_same_parameters(net, copy)
    nir.write(tmp_path / "net.nir", graph)  # and through a file
    from_file = from_nir(tmp_path / "net.nir", dt=1e-3)
    assert torch.equal(from_file(x), expected)
    _assert_same_parameters(net, from_file)


def test_round_trip_without_metadata_keeps_the_spikes(nir):
    """The NIR fields alone give back dendrix's decays and thresholds exactly."""
    net = _dense_net(seed=3)
    graph = to_nir(net, dt=1e-3, input_shape=8)
    for node in graph.nodes.values():
        node.metadata = {}
    copy = from_nir(graph, dt=1e-3)
    x = _input(60, 5, 8, seed=1)
    assert torch.equal(copy(x), net(x))
    for i in (1, 3):
        assert torch.equal(copy[i].v_th(), net[i].v_th())
        assert torch.equal(
            torch.exp(-1e-3 / copy[i].tau_mem()), torch.exp(-1e-3 / net[i].tau_mem())
        )
        torch.testing.assert_close(copy[i].tau_mem(), net[i].tau_mem(), rtol=1e-5, atol=0)


def test_round_trip_conv_lif_flatten_linear_cuba_is_exact(nir):
    tau = torch.tensor([3e-3, 5e-3, 8e-3, 12e-3]).view(4, 1, 1)  # per channel
    net = SpikingSequential(
        _seeded(nn.Conv2d(2, 4, 3, padding=1, bias=False), 0),
        _lif((4, 1, 1), tau_mem=tau),
        _seeded(nn.Conv2d(4, 3, 3, stride=2), 1),
        _lif(None, tau_mem=6e-3, v_th=0.7),
        nn.Flatten(),
        _linear(3 * 2 * 2, 5, 2),
        _cuba(5, tau_syn=3e-3, tau_mem=9e-3),
    )
    graph = to_nir(net, dt=1e-3, input_shape=(2, 6, 6))
    kinds = [type(n).__name__ for n in graph.nodes.values()]
    assert kinds == [
        "Input",
        "Conv2d",
        "LIF",
        "Conv2d",
        "LIF",
        "Flatten",
        "Affine",
        "CubaLIF",
        "Output",
    ]
    assert graph.nodes["4"].start_dim == 0  # NIR shapes have no batch axis
    x = _input(30, 3, 2, 6, 6, scale=3.0)
    expected = net(x)
    assert 0 < expected.sum() < expected.numel()
    copy = from_nir(graph, dt=1e-3)
    assert copy[0].bias is None  # the zero bias NIR requires is not made a parameter
    assert torch.equal(copy(x), expected)
    _assert_same_parameters(net, copy)


def test_threshold_tie_fires_after_round_trip(nir):
    """h == v_th exactly fires in dendrix (H(0) = 1); the strict NIR threshold keeps that."""
    net = nn.Sequential(nn.Linear(1, 1, bias=False), _lif(1, v_th=1.0))
    with torch.no_grad():
        net[0].weight.fill_(1.0)
    x = torch.tensor([1.0, 0.0, 0.999]).view(3, 1, 1)
    assert net(x).flatten().tolist() == [1.0, 0.0, 0.0]
    copy = from_nir(to_nir(net, dt=1e-3, input_shape=1), dt=1e-3)
    assert copy(x).flatten().tolist() == [1.0, 0.0, 0.0]


def test_training_options_survive_in_metadata(nir):
    net = nn.Sequential(
        _lif(3, surrogate="atan", detach_reset=True), _cuba(3, surrogate="triangle")
    )
    copy = from_nir(to_nir(net, dt=1e-3, input_shape=3), dt=1e-3)
    assert copy[0].surrogate == net[0].surrogate and copy[0].detach_reset
    assert copy[1].surrogate == net[1].surrogate and not copy[1].detach_reset


def test_learnable_constants_export_their_current_value(nir):
    net = nn.Sequential(_lif(4, tau_mem=5e-3, learn_tau=True, learn_threshold=True))
    with torch.no_grad():
        net[0].tau_mem.raw.add_(torch.tensor([0.3, -0.2, 0.1, 0.0]))
    copy = from_nir(to_nir(net, dt=1e-3, input_shape=4), dt=1e-3)
    assert not copy[0].tau_mem.learnable  # imported constants are fixed
    assert torch.equal(copy[0].tau_mem(), net[0].tau_mem().detach())
    x = _input(40, 2, 4, seed=5)
    assert torch.equal(copy(x), net(x))


def test_import_follows_the_euler_step_of_the_nir_ode(nir):
    """A graph written by hand (R = 1, not dendrix's R = tau/dt) against its own Euler step."""
    dt, n = 1e-3, 5
    tau = np.linspace(3e-3, 9e-3, n)
    node = nir.LIF(
        tau=tau, r=np.ones(n), v_leak=np.zeros(n), v_threshold=np.full(n, 0.3), v_reset=np.zeros(n)
    )
    graph = nir.NIRGraph.from_list(node)
    layer = from_nir(graph, dt=dt)
    # gain R dt / tau moved into the threshold: the membrane is v / gain
    gain = dt / tau
    assert layer[0].v_th() == pytest.approx(torch.tensor(0.3 / gain, dtype=F32), rel=3e-7)
    current = _input(80, 2, n, seed=2)  # input held over each step
    v = torch.zeros(2, n, dtype=torch.float64)
    spikes = []
    for i_t in current.double():  # one Euler step of tau dv/dt = -v + R I, fire if v > v_th
        v = v + dt / torch.from_numpy(tau) * (-v + i_t)
        z = (v > 0.3).double()
        v = v * (1 - z)
        spikes.append(z)
    expected = torch.stack(spikes)
    assert 0 < expected.sum() < expected.numel()
    assert torch.equal(layer(current).double(), expected)


# -- delays ----------------------------------------------------------------------------------


def test_delay_round_trip_is_exact(nir):
    net = SpikingSequential(
        _linear(6, 5, 0), _lif(5), Delay(5, [0, 1, 2, 3, 4]), _linear(5, 3, 1), _lif(3)
    )
    graph = to_nir(net, dt=1e-3, input_shape=6)
    assert isinstance(graph.nodes["2"], nir.Delay)
    assert graph.nodes["2"].delay == pytest.approx([0.0, 1e-3, 2e-3, 3e-3, 4e-3])
    copy = from_nir(graph, dt=1e-3)
    assert copy[2].delays.tolist() == [0, 1, 2, 3, 4]
    x = _input(40, 3, 6, scale=2.0)
    assert torch.equal(copy(x), net(x))


@pytest.mark.parametrize("per", ["input", "output"])
def test_rounded_delayed_linear_exports_as_delay_and_affine(nir, per):
    g = torch.Generator().manual_seed(0)
    layer = DelayedLinear(4, 3, max_delay=5, bias=per == "input", generator=g)
    with torch.no_grad():
        if per == "input":  # one delay per input: delay the inputs, then the weights
            layer.delay.copy_(torch.tensor([1.0, 4.0, 0.0, 2.0]).expand(3, 4))
        else:  # one per output, no bias: the weights, then delay the outputs
            layer.delay.copy_(torch.tensor([[3.0], [0.0], [5.0]]).expand(3, 4))
    layer.round_delays()
    graph = to_nir(SpikingSequential(layer, _lif(3)), dt=1e-3, input_shape=4)
    kinds = [type(n).__name__ for n in graph.nodes.values()][1:-2]
    assert kinds == (["Delay", "Affine"] if per == "input" else ["Linear", "Delay"])
    copy = from_nir(graph, dt=1e-3)
    x = _input(30, 2, 4, scale=2.0)
    # the same sum in the reals; conv1d and a matmul may round the last bit differently
    torch.testing.assert_close(copy[1](copy[0](x)), layer(x), rtol=1e-6, atol=1e-6)


def test_delayed_linear_in_gaussian_mode_is_refused(nir):
    layer = DelayedLinear(4, 3, max_delay=5, generator=torch.Generator().manual_seed(0))
    with pytest.raises(NotImplementedError, match=r"round_delays\(\)"):
        to_nir(layer, dt=1e-3, input_shape=4)


def test_delayed_linear_with_per_synapse_delays_is_refused(nir):
    layer = DelayedLinear(4, 3, max_delay=5, generator=torch.Generator().manual_seed(0))
    layer.round_delays()
    assert len(set(layer.integer_delays().flatten().tolist())) > 1
    with pytest.raises(NotImplementedError, match="per synapse"):
        to_nir(layer, dt=1e-3, input_shape=4)


# -- what NIR cannot express -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("layer", "match"),
    [
        (ALIF(4, return_state=False), "adaptive-threshold"),
        (Izhikevich(4, return_state=False), "Izhikevich"),
        (StochasticLIF(4, return_state=False), "deterministic"),
        (RecurrentLIF(4, generator=torch.Generator().manual_seed(0)), "recurrent"),
        (nn.ReLU(), "it knows nn.Linear"),
        (nn.BatchNorm1d(4), "it knows nn.Linear"),
    ],
    ids=["alif", "izhikevich", "stochastic", "recurrent", "relu", "batchnorm"],
)
def test_modules_without_a_nir_form_are_refused(nir, layer, match):
    net = nn.Sequential(nn.Linear(4, 4), layer)
    with pytest.raises(NotImplementedError, match=f"1 \\({type(layer).__name__}\\).*{match}"):
        to_nir(net, dt=1e-3, input_shape=4)


def test_custom_forward_is_refused(nir):
    class Custom(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(NotImplementedError, match="custom module with its own forward"):
        to_nir(Custom(), dt=1e-3, input_shape=4)


@pytest.mark.parametrize(
    ("layer", "match"),
    [
        (LIF(4, reset="subtract", return_state=False), "subtraction.*reset='zero'"),
        (LIF(4, reset="none", return_state=False), "never.*reset='zero'"),
        (CubaLIF(4, reset="subtract", return_state=False), "subtraction.*reset='zero'"),
        (_lif(4, t_ref=2e-3), "refractory.*t_ref=0"),
        (_lif(4, dt=5e-4), "pass dt=0.0005"),
    ],
    ids=["lif-subtract", "lif-none", "cuba-subtract", "refractory", "dt"],
)
def test_neuron_settings_nir_cannot_express_are_refused(nir, layer, match):
    with pytest.raises(ValueError, match=match):
        to_nir(nn.Sequential(layer), dt=1e-3, input_shape=4)


def test_shape_errors_say_what_to_add(nir):
    with pytest.raises(ValueError, match=r"nn\.Flatten"):
        to_nir(nn.Sequential(nn.Linear(4, 2)), dt=1e-3, input_shape=(3, 4))
    with pytest.raises(ValueError, match=r"start_dim=1"):
        to_nir(nn.Sequential(nn.Flatten(0)), dt=1e-3, input_shape=(3, 4))


def _lif_node(nir, n, **kwargs):
    tau = np.full(n, 5e-3)
    params = dict(
        tau=tau, r=tau / 1e-3, v_leak=np.zeros(n), v_threshold=np.ones(n), v_reset=np.zeros(n)
    )
    params.update(kwargs)
    return nir.LIF(**params)


def test_recurrent_graphs_are_refused(nir):
    nodes = {
        "input": nir.Input(np.array([3])),
        "lif": _lif_node(nir, 3),
        "w_rec": nir.Linear(weight=np.eye(3)),
        "output": nir.Output(np.array([3])),
    }
    edges = [("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")]
    graph = nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)
    with pytest.raises(NotImplementedError, match="recurrent"):
        from_nir(graph, dt=1e-3)


def test_branching_graphs_are_refused(nir):
    nodes = {
        "input": nir.Input(np.array([3])),
        "a": _lif_node(nir, 3),
        "b": _lif_node(nir, 3),
        "output": nir.Output(np.array([3])),
    }
    edges = [("input", "a"), ("input", "b"), ("a", "output"), ("b", "output")]
    graph = nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)
    with pytest.raises(NotImplementedError, match="branching"):
        from_nir(graph, dt=1e-3)


def test_unsupported_nodes_and_parameters_are_refused(nir):
    if_node = nir.IF(r=np.ones(3), v_threshold=np.ones(3))
    with pytest.raises(NotImplementedError, match=r"nir\.IF.*imports Affine"):
        from_nir(nir.NIRGraph.from_list(if_node), dt=1e-3)
    leaky = _lif_node(nir, 3, v_leak=np.full(3, 0.1))
    with pytest.raises(ValueError, match="v_leak"):
        from_nir(nir.NIRGraph.from_list(leaky), dt=1e-3)
    with pytest.raises(ValueError, match=r"smaller dt"):  # tau = 5 ms <= dt: no decay in (0, 1)
        from_nir(nir.NIRGraph.from_list(_lif_node(nir, 3)), dt=5e-3)
    delay = nir.Delay(delay=np.array([1.5e-3, 0.0]))
    with pytest.raises(ValueError, match="whole numbers of steps"):
        from_nir(nir.NIRGraph.from_list(delay), dt=1e-3)


def test_stale_metadata_is_ignored_with_a_warning(nir):
    graph = to_nir(nn.Sequential(_lif(3, tau_mem=5e-3)), dt=1e-3, input_shape=3)
    graph.nodes["0"].tau = graph.nodes["0"].tau * 2  # edited after export
    with pytest.warns(UserWarning, match="disagrees"):
        layer = from_nir(graph, dt=1e-3)[0]
    assert layer.tau_mem().item() == pytest.approx(
        -1e-3 / math.log(1 - 1e-3 / (2 * 5.5167e-3)), rel=1e-4
    )


# -- other libraries' NIR importers ----------------------------------------------------------


def _snntorch_run(module, x):
    """snnTorch's imported graph keeps its state inside (init_hidden): one call per step."""
    with torch.no_grad():
        return torch.stack([module(x_t)[0] for x_t in x])


@pytest.mark.parametrize("family", ["lif", "cuba_lif"])
def test_snntorch_import_reproduces_dendrix_spikes(nir, family):
    pytest.importorskip("nirtorch")
    snn_nir = pytest.importorskip("snntorch.import_nir")
    dt = 1e-4  # snnTorch's importer assumes this step whatever the graph says
    g = torch.Generator().manual_seed(4)
    if family == "lif":
        neurons = (
            _lif(16, tau_mem=dt * (2 + 20 * torch.rand(16, generator=g)), dt=dt),
            _lif(4, tau_mem=7 * dt, v_th=0.8, dt=dt),
        )
    else:
        neurons = (
            _cuba(16, tau_syn=5 * dt, tau_mem=10 * dt, dt=dt),
            _cuba(4, tau_syn=3 * dt, tau_mem=8 * dt, v_th=0.8, dt=dt),
        )
    net = nn.Sequential(_linear(8, 16, 0), neurons[0], _linear(16, 4, 1), neurons[1])
    peer = snn_nir.import_from_nir(to_nir(net, dt=dt, input_shape=8))
    x = _input(100, 3, 8)
    expected = net(x)
    assert 0 < expected.sum() < expected.numel()
    assert torch.equal(_snntorch_run(peer, x), expected)  # bit for bit: the same float32 ops


def test_snntorch_keeps_the_threshold_tie(nir):
    pytest.importorskip("nirtorch")
    snn_nir = pytest.importorskip("snntorch.import_nir")
    net = nn.Sequential(nn.Linear(1, 1), _lif(1, v_th=1.0, dt=1e-4))
    with torch.no_grad():
        net[0].weight.fill_(1.0)
        net[0].bias.fill_(0.0)
    x = torch.tensor([1.0, 0.0, 0.999]).view(3, 1, 1)
    peer = snn_nir.import_from_nir(to_nir(net, dt=1e-4, input_shape=1))
    assert _snntorch_run(peer, x).flatten().tolist() == net(x).flatten().tolist() == [1, 0, 0]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Norse calls nirtorch.load
@pytest.mark.filterwarnings("ignore::FutureWarning")  # torch.jit.script inside Norse
def test_norse_import_reproduces_dendrix_cuba_lif_spikes(nir):
    """Norse integrates v + dt/tau (R i - v) where dendrix computes beta v + i: the same map,
    float32 rounding apart, so the spikes agree (Norse's LIF import drops R: not tested)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        norse = pytest.importorskip("norse.torch")
    dt = 1e-3
    net = nn.Sequential(
        _linear(8, 16, 0),
        _cuba(16, tau_syn=5e-3, tau_mem=10e-3, dt=dt),
        _linear(16, 4, 1),
        _cuba(4, tau_syn=3e-3, tau_mem=8e-3, v_th=0.8, dt=dt),
    )
    peer = norse.from_nir(to_nir(net, dt=dt, input_shape=8), dt=dt)
    x = _input(100, 3, 8)
    expected = net(x)
    assert 0 < expected.sum() < expected.numel()
    state, spikes = None, []
    with torch.no_grad():
        for x_t in x:
            z, state = peer(x_t, state)
            spikes.append(z)
    assert torch.equal(torch.stack(spikes), expected)
