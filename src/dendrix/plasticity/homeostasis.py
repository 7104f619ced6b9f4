r"""Homeostasis: adaptive threshold, weight normalisation, intrinsic plasticity, inhibition.

**Adaptive threshold** (:class:`AdaptiveThreshold`; Diehl & Cook 2015):

.. math:: \theta_t = e^{-dt/\tau_\theta}\, \theta_{t-1} + \theta_+\, z_t

:math:`\theta` is added to the neuron's threshold (dimensionless, like the membrane), rises by
:math:`\theta_+` per spike and relaxes with :math:`\tau_\theta` (seconds; Diehl & Cook use
:math:`10^7` ms, so it barely decays during training).

**Weight normalisation** (:func:`normalize_weights`; Diehl & Cook 2015; the multiplicative
synaptic scaling of Turrigiano et al. 1998 applied exactly):
:math:`w_{ij} \leftarrow w_{ij}\, S / \sum_j w_{ij}`, so every neuron's input weights sum to
:math:`S` (78.4 for 784 MNIST inputs: a mean weight of 0.1).

**Intrinsic plasticity** (:class:`IntrinsicPlasticity`): a rate estimate
:math:`\hat r_t = \rho\, \hat r_{t-1} + (1 - \rho)\, z_t / dt` (hertz, :math:`\rho =
e^{-dt/\tau_r}`) drives a threshold shift

.. math:: \vartheta_t = \vartheta_{t-1} + \eta\, dt\, (\hat r_t - r^*)

toward the target rate :math:`r^*` (Hz): a neuron that fires too often raises its threshold,
one that is too quiet lowers it (Triesch 2005 adapts gain and bias to reach a target rate;
this is the threshold form, as in Hao et al. 2020). :math:`\eta` is in threshold units per
hertz per second. Read :math:`\vartheta` as an inhibitory gain and the same rule is the
reservoir E/I self-adaptation :math:`\Delta g_i \propto r_i - r^*_i` of algorithms.md §11.

**Lateral inhibition.** :func:`k_winners_take_all` keeps the spikes of the ``k`` spiking
neurons with the highest score (e.g. membrane potential) per sample, the hard limit of strong
inhibition; :func:`lateral_inhibition` returns the soft version, an inhibitory current
:math:`I_i = -g \sum_{j \ne i} z_j` that every spike sends to the other neurons of its layer
(Diehl & Cook's excitatory -> inhibitory -> all-other-excitatory loop, collapsed).

References: Diehl PU, Cook M (2015) Unsupervised learning of digit recognition using
spike-timing-dependent plasticity. Front Comput Neurosci 9:99; Turrigiano GG et al. (1998)
Nature 391:892-896; Triesch J (2005) A gradient rule for the plasticity of a neuron's intrinsic
excitability. ICANN, LNCS 3696:65-70; Hao Y et al. (2020) Neural Netw 121:387-395; Maass W
(2000) On the computational power of winner-take-all. Neural Comput 12:2519-2535.

Example:
    >>> import torch
    >>> from dendrix.plasticity import AdaptiveThreshold, normalize_weights
    >>> rule = AdaptiveThreshold(theta_plus=0.05, tau_theta=1e4, dt=1e-3)
    >>> theta = rule.update(torch.tensor([[1.0, 0.0]]), torch.zeros(2))
    >>> theta.tolist()
    [0.05000000074505806, 0.0]
    >>> w = torch.rand(3, 784, generator=torch.Generator().manual_seed(0))
    >>> normalize_weights(w, 78.4).sum(1).allclose(torch.full((3,), 78.4))
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import Tensor

from dendrix._validation import check_float, check_int, check_tensor
from dendrix.spiking.functional.base import check_time_constant, decay_unchecked

__all__ = [
    "AdaptiveThreshold",
    "IPState",
    "IntrinsicPlasticity",
    "k_winners_take_all",
    "lateral_inhibition",
    "normalize_weights",
]


def _check_post(post: object, *, check_finite: bool = True) -> Tensor:
    post = check_tensor(
        "post", post, kind="floating", ndim=2, hint="Give one step of spikes, [batch, n]."
    )
    if check_finite and not torch.compiler.is_compiling():
        check_tensor("post", post, finite=True)
    return post


def _check_per_neuron(name: str, value: object, post: Tensor, builder: str) -> Tensor:
    """``value`` must be ``[n]`` (shared by the batch) or ``[B, n]`` (one per sample)."""
    check_tensor(name, value, kind="floating")
    assert isinstance(value, Tensor)
    if tuple(value.shape) not in (tuple(post.shape), tuple(post.shape[1:])):
        raise ValueError(
            f"{name} must have shape [n]={[post.shape[1]]} (shared by the batch) or "
            f"[B, n]={list(post.shape)} (one per sample), got {tuple(value.shape)}; build it "
            f"with {builder}."
        )
    return value


# ---------------------------------------------------------------------------------------------
# Adaptive threshold
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AdaptiveThreshold:
    """:math:`\\theta \\leftarrow e^{-dt/\\tau_\\theta}\\theta + \\theta_+ z` (module docstring).

    Args:
        theta_plus: threshold increase per spike :math:`\\theta_+ \\ge 0` (threshold units).
        tau_theta: decay time constant :math:`\\tau_\\theta` in seconds (Diehl & Cook: 1e4).
        dt: time step in seconds.
        check_finite: refuse NaN/inf spikes.

    ``theta`` has shape ``[n]`` (one threshold per neuron, shared by the batch: the spikes of
    all ``B`` samples add up, ``theta_plus`` each) or ``[B, n]`` (one per sample).
    """

    theta_plus: float = 0.05
    tau_theta: float = 1e4
    dt: float = 1e-3
    check_finite: bool = True

    def __post_init__(self) -> None:
        check_float("theta_plus", self.theta_plus, minimum=0.0)
        check_time_constant("tau_theta", self.tau_theta)
        check_float("dt", self.dt, minimum=0.0, open_min=True, hint="Give it in seconds.")

    def initial_state(self, like: Tensor) -> Tensor:
        """Zero threshold shifts shaped like ``like`` (``[n]`` or ``[B, n]``)."""
        check_tensor("like", like, kind="floating")
        return torch.zeros_like(like)

    @torch.no_grad()
    def update(self, post: Tensor, theta: Tensor) -> Tensor:
        """One step; returns the new threshold shift.

        Args:
            post: spikes of the step ``[B, n]``.
            theta: current shift ``[n]`` or ``[B, n]``.

        Returns:
            the new ``theta``, same shape as the given one.
        """
        post = _check_post(post, check_finite=self.check_finite)
        theta = _check_per_neuron("theta", theta, post, "rule.initial_state(...)")
        spikes = post if theta.shape == post.shape else post.sum(0)
        return theta * decay_unchecked(self.tau_theta, self.dt) + self.theta_plus * spikes


# ---------------------------------------------------------------------------------------------
# Weight normalisation
# ---------------------------------------------------------------------------------------------
def normalize_weights(weight: Tensor, target_sum: float = 78.4, *, dim: int = 1) -> Tensor:
    r"""Rescale so that each neuron's weights sum to ``target_sum``.

    .. math:: w_{ij} \leftarrow w_{ij}\, S / \textstyle\sum_j w_{ij}

    For non-negative weights (a neuron's excitatory inputs). A neuron whose weights sum to 0
    cannot be rescaled and is returned unchanged. Pure: apply it with
    ``layer.weight.copy_(normalize_weights(layer.weight, 78.4))`` under ``torch.no_grad()``.

    Args:
        weight: ``[n_out, n_in]`` non-negative weights.
        target_sum: :math:`S > 0`, e.g. 78.4 (Diehl & Cook, 784 inputs).
        dim: the axis summed, 1 for the ``[n_out, n_in]`` layout (each neuron's inputs).

    Returns:
        the rescaled weights, same shape and dtype.
    """
    check_tensor("weight", weight, kind="floating", min_ndim=1, finite=True)
    target = check_float("target_sum", target_sum, minimum=0.0, open_min=True)
    dim = check_int("dim", dim, minimum=-weight.ndim, maximum=weight.ndim - 1)
    if bool((weight < 0).any()):
        raise ValueError(
            "normalize_weights expects non-negative weights (a neuron's excitatory inputs), got "
            f"a minimum of {weight.min().item():g}; clip them first (e.g. bounds='hard', "
            "w_min=0) or normalise the absolute values yourself."
        )
    with torch.no_grad():
        total = weight.sum(dim, keepdim=True)
        scale = torch.where(total > 0, target / total.clamp(min=torch.finfo(weight.dtype).tiny), 1)
        return weight * scale


# ---------------------------------------------------------------------------------------------
# Intrinsic plasticity
# ---------------------------------------------------------------------------------------------
class IPState(NamedTuple):
    """State of :class:`IntrinsicPlasticity`, each ``[n]`` or ``[B, n]``.

    Attributes:
        rate: rate estimate :math:`\\hat r` in hertz.
        theta: threshold shift :math:`\\vartheta` (add it to the threshold).
    """

    rate: Tensor
    theta: Tensor


@dataclass(frozen=True)
class IntrinsicPlasticity:
    """Threshold adaptation toward a target firing rate (module docstring for the equations).

    Args:
        target_rate_hz: the target rate :math:`r^*` in hertz (>= 0).
        eta: adaptation rate :math:`\\eta` (threshold units per Hz per second, >= 0).
        tau_rate: time constant of the rate estimate in seconds.
        dt: time step in seconds.
        initial_rate_hz: starting value of :math:`\\hat r` (default: the target, so nothing
            moves until the neuron's activity says so).
        check_finite: refuse NaN/inf spikes.
    """

    target_rate_hz: float = 10.0
    eta: float = 1e-3
    tau_rate: float = 0.1
    dt: float = 1e-3
    initial_rate_hz: float | None = None
    check_finite: bool = True

    def __post_init__(self) -> None:
        check_float("target_rate_hz", self.target_rate_hz, minimum=0.0)
        check_float("eta", self.eta, minimum=0.0)
        check_time_constant("tau_rate", self.tau_rate)
        check_float("dt", self.dt, minimum=0.0, open_min=True, hint="Give it in seconds.")
        if self.initial_rate_hz is not None:
            check_float("initial_rate_hz", self.initial_rate_hz, minimum=0.0)

    def initial_state(self, like: Tensor) -> IPState:
        """Rate at ``initial_rate_hz`` (or the target) and zero shift, shaped like ``like``."""
        check_tensor("like", like, kind="floating")
        r0 = self.target_rate_hz if self.initial_rate_hz is None else self.initial_rate_hz
        return IPState(rate=torch.full_like(like, r0), theta=torch.zeros_like(like))

    @torch.no_grad()
    def update(self, post: Tensor, state: IPState) -> IPState:
        """One step: update the rate estimate, then move the threshold shift.

        Args:
            post: spikes of the step ``[B, n]``.
            state: :class:`IPState` with fields ``[n]`` (shared; the batch's mean spike rate is
                used) or ``[B, n]``.

        Returns:
            the new :class:`IPState`.
        """
        post = _check_post(post, check_finite=self.check_finite)
        if not isinstance(state, IPState):
            raise TypeError(
                f"state must be an IPState, got {type(state).__name__}; build it with "
                "rule.initial_state(...)."
            )
        rate = _check_per_neuron("state.rate", state.rate, post, "rule.initial_state(...)")
        _check_per_neuron("state.theta", state.theta, post, "rule.initial_state(...)")
        if state.theta.shape != rate.shape:
            raise ValueError(
                f"state.theta {tuple(state.theta.shape)} and state.rate {tuple(rate.shape)} must "
                "have the same shape; build the state with rule.initial_state(...)."
            )
        spikes = post if rate.shape == post.shape else post.mean(0)
        rho = decay_unchecked(self.tau_rate, self.dt)
        rate = rho * rate + (1.0 - rho) * spikes / self.dt
        theta = state.theta + self.eta * self.dt * (rate - self.target_rate_hz)
        return IPState(rate=rate, theta=theta)


# ---------------------------------------------------------------------------------------------
# Lateral inhibition
# ---------------------------------------------------------------------------------------------
def k_winners_take_all(post: Tensor, scores: Tensor, k: int) -> Tensor:
    """Keep the spikes of the ``k`` spiking neurons with the highest ``scores``, per sample.

    Hard winner-take-all on spikes: of the neurons that spiked in a sample, the ``k`` with the
    largest score (e.g. membrane potential before reset) keep their spike, the others lose it;
    if ``k`` or fewer spiked, all keep it. Ties go to the lower index.

    Args:
        post: spikes ``[B, n]`` (0/1).
        scores: ``[B, n]``, larger wins.
        k: number of winners, ``1 <= k <= n``.

    Returns:
        spikes ``[B, n]`` with at most ``k`` ones per row.

    Example:
        >>> z = torch.tensor([[1.0, 1.0, 0.0, 1.0]])
        >>> k_winners_take_all(z, torch.tensor([[0.2, 0.9, 5.0, 0.5]]), k=2).tolist()
        [[0.0, 1.0, 0.0, 1.0]]
    """
    post = _check_post(post)
    check_tensor("scores", scores, kind="floating", ndim=2)
    if scores.shape != post.shape:
        raise ValueError(
            f"scores {tuple(scores.shape)} must have the shape of post {tuple(post.shape)}; "
            "give one score per neuron (e.g. the membrane potential of the same step)."
        )
    if torch.isnan(scores).any():
        raise ValueError("scores contains NaN; a NaN score cannot be ranked.")
    k = check_int("k", k, minimum=1, maximum=post.shape[1])
    spiking = post > 0
    ranked = torch.where(spiking, scores, torch.full_like(scores, -torch.inf))
    order = torch.sort(ranked, dim=1, descending=True, stable=True).indices[:, :k]
    keep = torch.zeros_like(spiking).scatter_(1, order, True) & spiking
    return post * keep


def lateral_inhibition(post: Tensor, strength: float, *, include_self: bool = False) -> Tensor:
    r"""Soft lateral inhibition: the current :math:`I_i = -g \sum_{j \ne i} z_j`.

    Feed it to the layer at the next step (with its input current). ``include_self=True`` sums
    over all :math:`j` (a global inhibitory pool that also inhibits the spiking neuron).

    Args:
        post: spikes ``[B, n]`` of the step.
        strength: :math:`g \ge 0` (membrane units per spike).
        include_self: whether a neuron's own spike inhibits it too.

    Returns:
        inhibitory current ``[B, n]`` (<= 0).

    Example:
        >>> lateral_inhibition(torch.tensor([[1.0, 0.0, 1.0]]), 0.5).tolist()
        [[-0.5, -1.0, -0.5]]
    """
    post = _check_post(post)
    g = check_float("strength", strength, minimum=0.0, hint="Inhibition strength is >= 0.")
    total = post.sum(1, keepdim=True)
    return -g * (total.expand_as(post) if include_self else total - post)
