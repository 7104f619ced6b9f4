r"""Supervised learning with symmetric STDP (Hao et al. 2020): a Diehl & Cook hidden layer and a
teacher-driven output layer, both plastic by symmetric STDP with synaptic scaling.

**Network.** Poisson inputs (one per pixel) drive ``n_hidden`` excitatory conductance LIF
neurons with adaptive thresholds and lateral inhibition through an inhibitory partner each:
exactly :class:`~dendrix.plasticity.diehl_cook.DiehlCookNetwork`, here with
``rule="symmetric"``. Their spikes drive ``n_classes`` output neurons (conductance LIF with a
fixed threshold) through plastic weights :math:`U` ``[n_classes, n_hidden]``; every output spike
inhibits the other output neurons in the next step (weight :math:`w_{inh}`, no interneuron).
During training a teacher drives the output neuron of the label with Poisson spikes of rate
:math:`r_T` through a fixed conductance :math:`w_T`, for the presentation. Per step :math:`t`:

.. math::

    x^o_{t,c} &= \textstyle\sum_j U_{cj} z^h_{t,j} + w_T\,[c = y]\, s^T_t, \qquad
    x^{o,inh}_{t,c} = w_{inh} \big(\textstyle\sum_k z^o_{t-1,k} - z^o_{t-1,c}\big)\\
    z^o_t &= \mathrm{CobaLIF}_{out}(x^o_t, x^{o,inh}_t)

with :math:`z^h` the hidden spikes, :math:`y` the label and :math:`s^T` the teacher's spikes.

**Learning.** Dopamine makes STDP symmetric (Hao et al.): both spike orders potentiate,
:math:`\Delta w \propto e^{-|\Delta t|/\tau}` (:class:`~dendrix.plasticity.stdp.SymmetricSTDP`,
nearest-spike traces). It acts on the input weights of the hidden layer (``nu_post`` at a
hidden spike, ``nu_pre`` at an input spike, ``tau_pre``/``tau_post1`` of the hidden config)
and on :math:`U`:

.. math::

    \text{output spike } c:\ U_{cj} \mathrel{+}= \eta_{post}\, x_j, \qquad
    \text{hidden spike } j:\ U_{cj} \mathrel{+}= \eta_{pre}\, o_c,

with :math:`x` the hidden traces (:math:`\tau_x`) and :math:`o` the output traces
(:math:`\tau_o`), clipped into :math:`[0, u_{max}]`. Potentiation alone would grow without
bound; synaptic scaling is the competition: after every image each neuron's input weights are
rescaled to a fixed sum (78.4 for the hidden layer, ``out_weight_mean * n_hidden`` for the
output layer; :func:`~dendrix.plasticity.homeostasis.normalize_weights`). The intrinsic
plasticity is the hidden layer's adaptive threshold. The teacher makes the label neuron fire
while the hidden neurons that the image excites fire, so :math:`U_c` gathers the hidden neurons
of class :math:`c`; the other output neurons, inhibited by the label neuron, barely learn.

**Classification.** With learning and the teacher off, an image belongs to the output neuron
that fires most over the presentation and the rest; ties (also: no output spike) go to the
neuron with the larger summed input conductance :math:`\sum_t x^o_{t,c}`
(:func:`predict_output`; :attr:`Readout.decided_by_spikes` says how often spikes alone decided).

**Two paths.** :meth:`SymSTDPNetwork.present` runs the output layer either with
``backend="kernel"`` (numba, event-driven over the hidden spikes) or ``"reference"`` (a readable
torch loop over ``coba_lif_step``, ``SymmetricSTDP.update_``, ``normalize_weights``); the
tests hold them equal to 1e-12, and the hidden layer's two paths likewise
(:mod:`dendrix.plasticity.diehl_cook`).

**Units** as in :mod:`dendrix.plasticity.diehl_cook`: mV, seconds, Hz, conductances in units of
the leak conductance.

**What is ours, not the paper's.** Hao et al.'s exact neuron constants, teacher rate and
learning rates are not restated in our references (algorithms.md §11 gives the architecture and
the rules); the constants here are Diehl & Cook's for the hidden layer, and for the output layer
the defaults of :class:`SymSTDPConfig`: ``out_weight_mean``, ``eta_post = eta_pre`` and
``v_thresh_out`` were chosen on validation images held out of the MNIST training set (100 and
400 hidden neurons, 3,000 to 6,000 training images; the test set was not looked at). Output
inhibition is direct (no inhibitory neuron) and the tie-break by input conductance is ours.

Reference: Hao Y, Huang X, Dong M, Xu B (2020) A biologically plausible supervised learning
method for spiking neural networks using the symmetric STDP rule. Neural Netw 121:387-395.

Example:
    >>> import torch
    >>> from dendrix.plasticity.diehl_cook import DiehlCookConfig
    >>> from dendrix.plasticity.sym_stdp import SymSTDPConfig, SymSTDPNetwork
    >>> config = SymSTDPConfig(hidden=DiehlCookConfig(n_exc=16, rule="symmetric"))
    >>> net = SymSTDPNetwork(config, generator=torch.Generator().manual_seed(0))
    >>> image = torch.zeros(28, 28, dtype=torch.uint8)
    >>> image[8:20, 12:16] = 255
    >>> out = net.present(image, label=3, generator=torch.Generator().manual_seed(1))
    >>> int(out.output_counts.argmax())  # the teacher made the label neuron fire
    3
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import torch
from numba import njit
from torch import Tensor

from dendrix._validation import check_choice, check_float, check_int, check_tensor
from dendrix.plasticity.diehl_cook import (
    BACKENDS,
    TINY,
    DiehlCookConfig,
    DiehlCookNetwork,
    V,
    _check_generator,
    _checked_state,
    _coba_neuron,
    _normalize,
)
from dendrix.plasticity.homeostasis import lateral_inhibition, normalize_weights
from dendrix.plasticity.stdp import STDPState, SymmetricSTDP
from dendrix.spiking.functional.base import check_time_constant, decay_unchecked
from dendrix.spiking.functional.coba_lif import CobaLIFParameters, CobaLIFState, coba_lif_step
from dendrix.spiking.functional.lif import refractory_steps

__all__ = ["Readout", "SymSTDPConfig", "SymSTDPNetwork", "predict_output"]


def _symmetric_hidden() -> DiehlCookConfig:
    return DiehlCookConfig(rule="symmetric")


@dataclass(frozen=True)
class SymSTDPConfig:
    """Constants of the network (module docstring).

    Attributes:
        hidden: the hidden layer, a :class:`~dendrix.plasticity.diehl_cook.DiehlCookConfig`
            (default: Diehl & Cook's constants with ``rule="symmetric"``, 400 neurons).
        n_classes: output neurons, one per class.
        v_rest_out, v_reset_out, v_thresh_out: output rest, reset, threshold in mV
            (-65, -65, -58: 7 mV above rest, so that a trained output neuron fires without
            the teacher).
        tau_out: output membrane time constant in seconds (100 ms).
        t_ref_out: output refractory period in seconds (5 ms).
        e_inh_out: inhibitory reversal potential of the output neurons in mV (-100).
        w_inh_out: output -> other outputs inhibition (conductance per spike).
        teacher_rate: teacher Poisson rate in Hz onto the label neuron during training.
        w_teacher: conductance of a teacher spike.
        tau_x, tau_o: hidden and output traces of the output rule in seconds (20 ms).
        eta_post, eta_pre: output rule rates at an output spike and at a hidden spike.
        u_max: output weight bound; weights stay in ``[0, u_max]``.
        out_weight_mean: each output neuron's weights sum to ``out_weight_mean * n_hidden``
            after every training image.
        u_init_low, u_init_high: initial output weights uniform in this range (then scaled).
    """

    hidden: DiehlCookConfig = field(default_factory=_symmetric_hidden)
    n_classes: int = 10
    v_rest_out: float = -65.0
    v_reset_out: float = -65.0
    v_thresh_out: float = -58.0
    tau_out: float = 100e-3
    t_ref_out: float = 5e-3
    e_inh_out: float = -100.0
    w_inh_out: float = 5.0
    teacher_rate: float = 200.0
    w_teacher: float = 20.0
    tau_x: float = 20e-3
    tau_o: float = 20e-3
    eta_post: float = 0.015
    eta_pre: float = 0.015
    u_max: float = 10.0
    out_weight_mean: float = 1.0
    u_init_low: float = 0.0
    u_init_high: float = 0.1

    def __post_init__(self) -> None:
        if not isinstance(self.hidden, DiehlCookConfig):
            raise TypeError(f"hidden must be a DiehlCookConfig, got {type(self.hidden).__name__}.")
        check_int("n_classes", self.n_classes, minimum=2)
        for name in ("tau_out", "tau_x", "tau_o"):
            check_time_constant(name, getattr(self, name))
        check_float("t_ref_out", self.t_ref_out, minimum=0.0, hint="In seconds.")
        for name in ("v_rest_out", "v_reset_out", "v_thresh_out", "e_inh_out"):
            check_float(name, getattr(self, name))
        if self.v_thresh_out <= self.v_rest_out:
            raise ValueError(
                f"v_thresh_out ({self.v_thresh_out:g} mV) must lie above v_rest_out "
                f"({self.v_rest_out:g} mV)."
            )
        if self.e_inh_out >= self.hidden.e_exc:
            raise ValueError(
                f"e_inh_out ({self.e_inh_out:g} mV) must lie below the excitatory reversal "
                f"potential ({self.hidden.e_exc:g} mV)."
            )
        for name in ("w_inh_out", "w_teacher", "eta_post", "eta_pre"):
            check_float(name, getattr(self, name), minimum=0.0)
        check_float("teacher_rate", self.teacher_rate, minimum=0.0, hint="In Hz.")
        if self.teacher_rate * self.hidden.dt > 1.0:
            raise ValueError(
                f"teacher_rate = {self.teacher_rate:g} Hz exceeds one spike per step of "
                f"dt = {self.hidden.dt:g} s; lower it below {1 / self.hidden.dt:g} Hz."
            )
        check_float("u_max", self.u_max, minimum=0.0, open_min=True)
        check_float(
            "out_weight_mean",
            self.out_weight_mean,
            minimum=0.0,
            open_min=True,
            maximum=self.u_max,
            hint="The mean weight cannot exceed u_max.",
        )
        if not 0.0 <= self.u_init_low < self.u_init_high <= self.u_max:
            raise ValueError(
                f"need 0 <= u_init_low < u_init_high <= u_max, got u_init_low="
                f"{self.u_init_low:g}, u_init_high={self.u_init_high:g}, u_max={self.u_max:g}."
            )

    @property
    def n_hidden(self) -> int:
        """Hidden (excitatory) neurons."""
        return self.hidden.n_exc

    @property
    def out_weight_sum(self) -> float:
        """Each output neuron's weight sum after scaling, ``out_weight_mean * n_hidden``."""
        return self.out_weight_mean * self.n_hidden


class Readout(NamedTuple):
    """What :meth:`SymSTDPNetwork.present` returns.

    Attributes:
        hidden_counts: int64 ``[n_hidden]`` hidden spike counts of the accepted presentation.
        output_counts: int64 ``[n_classes]`` output spike counts over presentation and rest.
        drive: float64 ``[n_classes]`` summed hidden input conductance of each output neuron,
            :math:`\\sum_t \\sum_j U_{cj} z^h_{t,j}` (the teacher not included).
        presentations: how many times the image was shown (Diehl & Cook's re-presentation).
    """

    hidden_counts: Tensor
    output_counts: Tensor
    drive: Tensor
    presentations: int


# ---------------------------------------------------------------------------------------------
# The output-layer kernel
# ---------------------------------------------------------------------------------------------
(
    G_ALPHA_E, G_ALPHA_I, G_DT, G_TAU, G_VREST, G_VRESET, G_VTH, G_EEXC, G_EINH,
    G_W_INH, G_W_TEACHER, G_D_X, G_D_O, G_ETA_POST, G_ETA_PRE, G_U_MAX, G_U_SUM,
) = range(17)  # fmt: skip
N_GPARAMS = 17


@njit(cache=True)
def simulate_output(
    raster: np.ndarray,
    teacher: np.ndarray,
    label: int,
    ut: np.ndarray,
    out: np.ndarray,
    z_out: np.ndarray,
    x_tr: np.ndarray,
    o_tr: np.ndarray,
    gparams: np.ndarray,
    n_ref: float,
    learn: bool,
    counts: np.ndarray,
    drive: np.ndarray,
) -> None:
    """Run the output layer over one image's hidden ``raster``, in place.

    Mirrors :meth:`SymSTDPNetwork._output_reference` step for step, except that the traces
    below :data:`~dendrix.plasticity.diehl_cook.TINY` are set to 0 (no effect at double
    precision).

    Args:
        raster: uint8 ``[T, n_hidden]`` hidden spikes (presentation and rest).
        teacher: uint8 ``[T]`` teacher spikes onto neuron ``label`` (``label < 0``: none).
        ut: float64 ``[n_hidden, n_classes]`` the output weights *transposed*.
        out: float64 ``[4, n_classes]`` output states, rows ``V, GE, GI, R``.
        z_out: float64 ``[n_classes]`` output spikes of the previous step.
        x_tr, o_tr: float64 ``[n_hidden]``, ``[n_classes]`` STDP traces.
        gparams: constants, ``G_*`` above; ``n_ref``: refractory steps.
        learn: symmetric STDP and the final scaling on/off.
        counts: int64 ``[n_classes]`` receives the output spike counts.
        drive: float64 ``[n_classes]`` receives the summed hidden input conductance.
    """
    steps, n_hidden = raster.shape
    n = ut.shape[1]
    alpha_e, alpha_i, dt = gparams[G_ALPHA_E], gparams[G_ALPHA_I], gparams[G_DT]
    tau, w_inh, w_teacher = gparams[G_TAU], gparams[G_W_INH], gparams[G_W_TEACHER]
    d_x, d_o = gparams[G_D_X], gparams[G_D_O]
    eta_post, eta_pre, u_max = gparams[G_ETA_POST], gparams[G_ETA_PRE], gparams[G_U_MAX]
    beta = math.exp(-dt * 1.0 / tau)
    fired_h = np.empty(n_hidden, dtype=np.int64)
    x_e = np.zeros(n)
    z = np.zeros(n)
    counts[:] = 0
    drive[:] = 0.0
    for t in range(steps):
        n_h = 0
        row = raster[t]
        for j in range(n_hidden):
            if row[j] != 0:
                fired_h[n_h] = j
                n_h += 1
        x_e[:] = 0.0
        for k in range(n_h):
            col = ut[fired_h[k]]
            for c in range(n):
                x_e[c] += col[c]
        for c in range(n):
            drive[c] += x_e[c]
        if label >= 0 and teacher[t] != 0:
            x_e[label] += w_teacher
        n_z = 0.0
        for c in range(n):
            n_z += z_out[c]
        for c in range(n):
            z[c] = _coba_neuron(
                out, c, x_e[c], w_inh * (n_z - z_out[c]), True, alpha_e, alpha_i, dt, tau,
                gparams[G_VREST], gparams[G_EEXC], gparams[G_EINH], gparams[G_VTH],
                gparams[G_VRESET], n_ref, beta,
            )  # fmt: skip
            counts[c] += int(z[c])
        for c in range(n):
            z_out[c] = z[c]
        if not learn:
            continue
        # SymmetricSTDP(pairing="nearest", bounds="hard").update_: decay, hidden spikes set x
        for j in range(n_hidden):
            v = x_tr[j] * d_x
            x_tr[j] = v if v >= TINY else 0.0
        for k in range(n_h):
            x_tr[fired_h[k]] = 1.0
        for c in range(n):
            v = o_tr[c] * d_o
            o_tr[c] = v if v >= TINY else 0.0
        for c in range(n):  # output spike: + eta_post x on its row
            if z[c] > 0.0:
                for j in range(n_hidden):
                    ut[j, c] += eta_post * x_tr[j]
        for k in range(n_h):  # hidden spike: + eta_pre o on its column, then clip it
            col = ut[fired_h[k]]
            for c in range(n):
                col[c] = min(max(col[c] + eta_pre * o_tr[c], 0.0), u_max)
        for c in range(n):
            if z[c] > 0.0:
                for j in range(n_hidden):
                    ut[j, c] = min(max(ut[j, c], 0.0), u_max)
                o_tr[c] = 1.0
    if learn:
        _normalize(ut, gparams[G_U_SUM])


# ---------------------------------------------------------------------------------------------
# The network
# ---------------------------------------------------------------------------------------------
class SymSTDPNetwork:
    """Hao et al.'s network (module docstring): hidden layer, output layer, teacher.

    Args:
        config: :class:`SymSTDPConfig`.
        generator: draws the initial weights of both layers.

    State (float64, CPU): :attr:`hidden` (a :class:`~dendrix.plasticity.diehl_cook.
    DiehlCookNetwork`), :attr:`output_weight` ``[n_classes, n_hidden]``, the output neurons'
    :class:`~dendrix.spiking.functional.coba_lif.CobaLIFState`, their last spikes and the two
    traces of the output rule; :meth:`state_dict` / :meth:`load_state_dict` hold all of it.
    """

    def __init__(self, config: SymSTDPConfig | None = None, *, generator: torch.Generator):
        self.config = SymSTDPConfig() if config is None else config
        if not isinstance(self.config, SymSTDPConfig):
            raise TypeError(f"config must be a SymSTDPConfig, got {type(self.config).__name__}.")
        generator = _check_generator(generator)
        c = self.config
        self.hidden = DiehlCookNetwork(c.hidden, generator=generator)
        m, n = c.n_hidden, c.n_classes
        u = torch.rand(m, n, generator=generator, dtype=torch.float64)
        self._ut = (c.u_init_low + (c.u_init_high - c.u_init_low) * u).contiguous()
        self._ut.copy_(normalize_weights(self._ut.T, c.out_weight_sum).T)
        self._out = torch.zeros(4, n, dtype=torch.float64)
        self._out[V] = c.v_rest_out
        self._z_out = torch.zeros(n, dtype=torch.float64)
        self._x = torch.zeros(m, dtype=torch.float64)
        self._o = torch.zeros(n, dtype=torch.float64)
        self.rule = SymmetricSTDP(
            a_plus=c.eta_post,
            a_minus=c.eta_pre,
            tau_plus=c.tau_x,
            tau_minus=c.tau_o,
            dt=c.hidden.dt,
            pairing="nearest",
            bounds="hard",
            w_max=c.u_max,
            reduce="sum",
            check_finite=False,
        )
        self.out_params = CobaLIFParameters.diehl_cook_excitatory(
            tau_mem=c.tau_out,
            tau_ge=c.hidden.tau_ge,
            tau_gi=c.hidden.tau_gi,
            v_rest=c.v_rest_out,
            v_reset=c.v_reset_out,
            v_th=c.v_thresh_out,
            e_exc=c.hidden.e_exc,
            e_inh=c.e_inh_out,
            t_ref=c.t_ref_out,
        )
        d, h = decay_unchecked, c.hidden
        g = np.zeros(N_GPARAMS)
        g[G_ALPHA_E], g[G_ALPHA_I], g[G_DT] = d(h.tau_ge, h.dt), d(h.tau_gi, h.dt), h.dt
        g[G_TAU], g[G_VREST], g[G_VRESET], g[G_VTH] = (
            c.tau_out, c.v_rest_out, c.v_reset_out, c.v_thresh_out,
        )  # fmt: skip
        g[G_EEXC], g[G_EINH], g[G_W_INH], g[G_W_TEACHER] = (
            h.e_exc, c.e_inh_out, c.w_inh_out, c.w_teacher,
        )  # fmt: skip
        g[G_D_X], g[G_D_O] = d(c.tau_x, h.dt), d(c.tau_o, h.dt)
        g[G_ETA_POST], g[G_ETA_PRE], g[G_U_MAX] = c.eta_post, c.eta_pre, c.u_max
        g[G_U_SUM] = c.out_weight_sum
        self._gparams = g
        self._n_ref = float(refractory_steps(c.t_ref_out, h.dt))

    # -- state -------------------------------------------------------------------------------
    @property
    def output_weight(self) -> Tensor:
        """Output weights ``[n_classes, n_hidden]`` (a view: writing it changes the network)."""
        return self._ut.T

    _STATE = ("_ut", "_out", "_z_out", "_x", "_o")

    def state_dict(self) -> dict[str, Any]:
        """Every state tensor (copies): ``hidden`` (the hidden layer's
        :meth:`~dendrix.plasticity.diehl_cook.DiehlCookNetwork.state_dict`), ``ut`` the output
        weights transposed ``[n_hidden, n_classes]``, ``out`` ``[4, n_classes]`` (rows ``v``,
        ``g_e``, ``g_i``, ``r``), ``z_out`` the last output spikes, ``x`` ``[n_hidden]`` and
        ``o`` ``[n_classes]`` the output rule's traces."""
        state: dict[str, Any] = {
            name.lstrip("_"): getattr(self, name).clone() for name in self._STATE
        }
        state["hidden"] = self.hidden.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        if "hidden" not in state:
            raise KeyError("state has no 'hidden'; give what state_dict() returned.")
        pairs = _checked_state(self, self._STATE, state)  # check all before writing any
        self.hidden.load_state_dict(state["hidden"])
        for target, value in pairs:
            target.copy_(value)

    # -- one image ---------------------------------------------------------------------------
    def present(
        self,
        image: Tensor,
        *,
        label: int | None,
        generator: torch.Generator,
        backend: str = "kernel",
    ) -> Readout:
        """Show ``image``: train on it when ``label`` is given, else only respond.

        With a label, the hidden layer learns (Diehl & Cook's presentation, symmetric STDP,
        adaptive thresholds, scaling), the teacher drives output neuron ``label`` and the
        output weights learn. Without one, nothing learns and no teacher fires.

        Args:
            image: ``[n_input]`` or ``[28, 28]`` grey levels 0..255.
            label: the class in ``[0, n_classes)`` (training) or ``None`` (testing).
            generator: draws the Poisson input and teacher spikes.
            backend: ``"kernel"`` (numba) or ``"reference"`` (torch loop), for both layers.
        """
        c = self.config
        check_choice("backend", backend, BACKENDS)
        learn = label is not None
        if learn:
            label = check_int("label", label, minimum=0, maximum=c.n_classes - 1)
        generator = _check_generator(generator)
        shown = self.hidden.present(
            image, learn=learn, generator=generator, backend=backend, record=True
        )
        raster = shown.raster
        assert raster is not None
        steps = raster.shape[0]
        teacher = torch.zeros(steps, dtype=torch.uint8)
        if learn:
            p = c.teacher_rate * c.hidden.dt
            u = torch.rand(c.hidden.steps_present, generator=generator, dtype=torch.float64)
            teacher[: c.hidden.steps_present] = (u < p).to(torch.uint8)
        if backend == "reference":
            counts, drive = self._output_reference(raster, teacher, label, learn)
        else:
            counts = np.zeros(c.n_classes, dtype=np.int64)
            drive = np.zeros(c.n_classes)
            simulate_output(
                raster.numpy(), teacher.numpy(), -1 if label is None else int(label),
                self._ut.numpy(), self._out.numpy(), self._z_out.numpy(), self._x.numpy(),
                self._o.numpy(), self._gparams, self._n_ref, learn, counts, drive,
            )  # fmt: skip
            counts, drive = torch.from_numpy(counts), torch.from_numpy(drive)
        return Readout(shown.counts, counts, drive, shown.presentations)

    @torch.no_grad()
    def _output_reference(
        self, raster: Tensor, teacher: Tensor, label: int | None, learn: bool
    ) -> tuple[Tensor, Tensor]:
        """The readable output layer: ``coba_lif_step``, ``SymmetricSTDP.update_``, scaling."""
        c = self.config
        state = CobaLIFState(*(row.clone().unsqueeze(0) for row in self._out))
        traces = STDPState(
            pre_trace=self._x.clone().unsqueeze(0), post_trace=self._o.clone().unsqueeze(0)
        )
        weight = self.output_weight  # [n_classes, n_hidden], written in place by update_
        z_out = self._z_out.clone().unsqueeze(0)
        counts = torch.zeros(c.n_classes, dtype=torch.int64)
        drive = torch.zeros(c.n_classes, dtype=torch.float64)
        for t in range(raster.shape[0]):
            s = raster[t : t + 1].to(torch.float64)  # [1, n_hidden]
            x = s @ weight.T  # [1, n_classes]
            drive += x[0]
            if label is not None and bool(teacher[t]):
                x[0, label] += c.w_teacher
            x_i = -lateral_inhibition(z_out, c.w_inh_out)
            z_out, state = coba_lif_step(x, state, self.out_params, c.hidden.dt, x_i)
            counts += z_out[0].to(torch.int64)
            if learn:
                traces = self.rule.update_(s, z_out, traces, weight)
        if learn:
            weight.copy_(normalize_weights(weight, c.out_weight_sum))
            self._x.copy_(traces.pre_trace[0])
            self._o.copy_(traces.post_trace[0])
        self._out.copy_(torch.cat(list(state)))
        self._z_out.copy_(z_out[0])
        return counts, drive


def predict_output(output_counts: Tensor, drive: Tensor) -> tuple[Tensor, Tensor]:
    """The class of each image: most output spikes, ties broken by the larger input drive.

    Args:
        output_counts: int64 ``[N, n_classes]`` output spike counts.
        drive: float ``[N, n_classes]`` summed input conductances (:class:`Readout`).

    Returns:
        ``(predictions, by_spikes)``: int64 ``[N]`` classes, and bool ``[N]`` whether the spike
        counts alone decided (a single neuron with the most spikes, and at least one spike).

    Example:
        >>> counts = torch.tensor([[0, 3, 1], [2, 2, 0], [0, 0, 0]])
        >>> drive = torch.tensor([[9.0, 1.0, 0.0], [1.0, 5.0, 0.0], [0.5, 0.2, 0.9]])
        >>> pred, by_spikes = predict_output(counts, drive)
        >>> pred.tolist(), by_spikes.tolist()
        ([1, 1, 2], [True, False, False])
    """
    check_tensor("output_counts", output_counts, kind="integer", ndim=2)
    check_tensor("drive", drive, ndim=2)
    if drive.shape != output_counts.shape:
        raise ValueError(
            f"drive has shape {tuple(drive.shape)}, output_counts {tuple(output_counts.shape)}; "
            "give both from the same images."
        )
    top = output_counts.max(1, keepdim=True).values
    is_top = output_counts == top
    by_spikes = (is_top.sum(1) == 1) & (top[:, 0] > 0)
    d = drive.to(torch.float64).masked_fill(~is_top, -math.inf)
    return d.argmax(1), by_spikes
