r"""Fused multi-step CPU kernels (numba) for LIF, CuBa-LIF and ALIF, forward and backward.

The maths is that of the step functions (:mod:`dendrix.spiking.functional.lif`,
:mod:`~dendrix.spiking.functional.cuba_lif`, :mod:`~dendrix.spiking.functional.alif`); this
module runs the whole time loop of ``[T, B, ...]`` in one compiled call and its hand-derived
adjoint in another, and must equal :mod:`dendrix.spiking.kernels.reference` in outputs and
gradients (``tests/spiking/test_kernels.py``). Call it through
:mod:`dendrix.spiking.kernels.dispatch`, which checks the arguments.

**Layout.** The neurons are flattened to one axis of ``M = B * prod(features)``; a sequence is
``[T, M]``. The kernels split ``M`` into blocks of :data:`BLOCK` neurons run in parallel
(``prange``); inside a block the loop over ``t`` is outside and the loop over the block's
neurons inside, so that it vectorises. Every parameter arrives expanded to ``[M]`` (expanded in
torch, so autograd sums the per-neuron gradients back to the parameter's own shape). Decays
arrive as factors (:math:`\beta = e^{-dt/\tau}` is computed in torch, so :math:`d\tau` follows
from :math:`d\beta` by autograd).

**Memory.** The forward keeps for the backward only what the backward cannot recompute: the
pre-reset potential :math:`h_t` ``[T, M]`` (LIF), plus the synaptic current :math:`i_t`
(CuBa-LIF, only when :math:`\tau_{syn}` needs a gradient: nothing else reads it) or the
adaptation trace :math:`a_t` (ALIF). The spikes :math:`z_t = H(h_t - \vartheta_t)` and the
post-reset :math:`v_{t-1}` are recomputed from them with the forward's own arithmetic, bit for
bit. That is 4 bytes per (step, neuron) for LIF in float32 (8 in float64), 4 or 8 (8 or 16) for
CuBa-LIF and 8 (16) for ALIF; no autograd graph is kept per step.

**Backward** (LIF; the others add their own terms, see the kernels). Walking ``t`` down, with
:math:`g_v = \partial L/\partial v_t` carried from step ``t+1`` and
:math:`u_t = h_t - \vartheta`:

.. math::

    \bar g_z &= \partial L/\partial z_t + g_v\, \partial v_t/\partial z_t, \qquad
    \partial v_t/\partial z_t = -\vartheta,\ v_{reset} - h_t,\ 0
        \ \text{(subtract, zero, none; 0 with detach\_reset)}\\
    g_h &= \bar g_z\, \sigma'(u_t) + g_v\, \partial v_t/\partial h_t, \qquad
        \partial v_t/\partial h_t = 1,\ 1 - z_t,\ 1\\
    \partial L/\partial\vartheta \mathrel{+}= -\bar g_z \sigma'(u_t) - g_v z_t [\text{subtract}],
    \quad \partial L/\partial x_t = g_h, \quad \partial L/\partial\beta \mathrel{+}= g_h v_{t-1},
    \quad g_v \leftarrow \beta g_h.

Without grad (inference) nothing is kept: the per-step buffers shrink to one scratch row.

**Precision.** float32 and float64, computed in the dtype of ``x`` with the step functions'
order of operations, so the forward equals the reference bit for bit (``fastmath=False``).
Scalars enter the kernels through a small array ``coef`` of the data's dtype (``alpha`` of the
surrogate, ``v_reset``, 1, 0 and two surrogate coefficients), rounded from Python floats as
torch rounds them: numba would otherwise promote float32 arithmetic to float64.

**torch side.** Each family is a pair of :func:`torch.library.custom_op` operators
(``dendrix::<family>_cpu_forward`` / ``_backward``) with fake kernels, opaque to
``torch.compile``; see the note above the operators for how autograd and ``torch.func`` reach
them. Double backward is not supported. Numba compiles each kernel once per dtype at its first
call (tens of seconds for all of them) and caches the machine code next to this file.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch
from numba import njit, prange
from torch import Tensor

from dendrix.spiking.functional.alif import ALIFParameters, ALIFState
from dendrix.spiking.functional.base import decay_unchecked
from dendrix.spiking.functional.cuba_lif import CubaLIFParameters, CubaLIFState
from dendrix.spiking.functional.lif import RESETS, LIFParameters, LIFState
from dendrix.spiking.surrogate import ATan, FastSigmoid, Sigmoid, StraightThrough, Triangle

__all__ = [
    "BLOCK",
    "alif_multistep_cpu",
    "cuba_lif_multistep_cpu",
    "lif_multistep_cpu",
]

BLOCK = 256
"""Neurons per parallel block (the inner, vectorised loop)."""

RESET_CODES = {name: i for i, name in enumerate(RESETS)}
"""``"subtract"`` -> 0, ``"zero"`` -> 1, ``"none"`` -> 2."""
_SUBTRACT, _ZERO = RESET_CODES["subtract"], RESET_CODES["zero"]

_NUMPY_DTYPES = {torch.float32: np.float32, torch.float64: np.float64}
_FAST_SIGMOID, _ATAN, _SIGMOID, _TRIANGLE, _STRAIGHT_THROUGH = (
    FastSigmoid.kind,
    ATan.kind,
    Sigmoid.kind,
    Triangle.kind,
    StraightThrough.kind,
)

# slots of the ``coef`` array (dtype of the data)
_C_ALPHA, _C_VRESET, _C_ONE, _C_ZERO, _C_K1, _C_K2 = range(6)


def _coef(kind: int, alpha: float, v_reset: float, dtype: torch.dtype) -> np.ndarray:
    """The scalars of a kernel as an array of the data's dtype (see the module docstring).

    ``K1``/``K2`` are the Python-float coefficients :func:`surrogate_derivative` forms before
    it multiplies a tensor: ``alpha/2`` and ``pi/2 * alpha`` (atan), ``0.5/alpha``
    (straight-through).
    """
    k1 = 0.5 / alpha if kind == _STRAIGHT_THROUGH else alpha / 2.0
    k2 = math.pi / 2.0 * alpha
    return np.array([alpha, v_reset, 1.0, 0.0, k1, k2], dtype=_NUMPY_DTYPES[dtype])


# -- shared scalar pieces (inlined into the kernels) -------------------------------------------


@njit(cache=True, inline="always")
def _fire(u, c):  # pragma: no cover - compiled
    """:math:`H(u)` in the data's dtype."""
    return c[_C_ONE] if u >= c[_C_ZERO] else c[_C_ZERO]


@njit(cache=True, inline="always")
def _reset(h, z, theta, reset, c):  # pragma: no cover - compiled
    """Post-spike potential, written as :func:`~dendrix.spiking.functional.lif.lif_reset`."""
    if reset == _SUBTRACT:
        return h - z * theta
    if reset == _ZERO:
        return h * (c[_C_ONE] - z) + z * c[_C_VRESET]
    return h


@njit(cache=True, inline="always")
def _surrogate_row(sd, u, kind, c):  # pragma: no cover - compiled
    """``sd[j] = sigma'(u[j])`` as :func:`dendrix.spiking.surrogate.surrogate_derivative` forms
    it; one loop per kind, so that each vectorises (a branch inside the loop would not)."""
    alpha = c[_C_ALPHA]
    one = c[_C_ONE]
    zero = c[_C_ZERO]
    k1 = c[_C_K1]
    k2 = c[_C_K2]
    if kind == _FAST_SIGMOID:
        for j in range(u.shape[0]):
            d = one + alpha * abs(u[j])
            sd[j] = one / (d * d)
    elif kind == _ATAN:
        for j in range(u.shape[0]):
            w = k2 * u[j]
            sd[j] = k1 / (one + w * w)
    elif kind == _SIGMOID:
        for j in range(u.shape[0]):
            s = one / (one + np.exp(-(alpha * u[j])))
            sd[j] = alpha * s * (one - s)
    elif kind == _TRIANGLE:
        for j in range(u.shape[0]):
            sd[j] = alpha * max(zero, one - alpha * abs(u[j]))
    else:  # straight-through; the dispatcher sends any other kind to the reference
        for j in range(u.shape[0]):
            sd[j] = alpha if abs(u[j]) < k1 else zero


@njit(cache=True, inline="always")
def _reset_partials(h, z, theta, reset, detach, c):  # pragma: no cover - compiled
    """``(dv/dz, dv/dh, dv/dtheta)`` of the reset at ``(h, z, theta)``."""
    one = c[_C_ONE]
    zero = c[_C_ZERO]
    if reset == _SUBTRACT:
        dvdz, dvdh, dvdth = -theta, one, -z
    elif reset == _ZERO:
        dvdz, dvdh, dvdth = c[_C_VRESET] - h, one - z, zero
    else:
        dvdz, dvdh, dvdth = zero, one, zero
    if detach:
        dvdz = zero
    return dvdz, dvdh, dvdth


# Every kernel has the same shape: ``prange`` over blocks of neurons; each block copies its
# running state into block-local arrays (which alias nothing, so that LLVM vectorises), then
# walks ``t`` with inner loops over the block's neurons on row slices. The backward kernels
# fill a row of surrogate derivatives first, one loop per surrogate kind.


@njit(cache=True, inline="always")
def _block(blk, m_all):  # pragma: no cover - compiled
    """Neurons ``lo:hi`` of block ``blk``."""
    lo = blk * BLOCK
    return lo, min(lo + BLOCK, m_all)


@njit(cache=True, inline="always")
def _previous_v(vp, h_prev, theta, reset, c):  # pragma: no cover - compiled
    """``vp[j] = v_{t-1}``, rebuilt from ``h_{t-1}`` with the forward's own arithmetic."""
    for j in range(vp.shape[0]):
        hp = h_prev[j]
        vp[j] = _reset(hp, _fire(hp - theta[j], c), theta[j], reset, c)


# -- LIF ---------------------------------------------------------------------------------------


@njit(parallel=True, cache=True, fastmath=False)
def _lif_forward(x, v0, beta, theta, c, reset, z, h, v):  # pragma: no cover - compiled
    """Fill spikes ``z`` and pre-reset ``h`` ``[T, M]`` and the final potential ``v`` ``[M]``.

    A one-row ``h`` (nothing to keep for a backward) is overwritten at every step.
    """
    n_steps, m_all = x.shape
    keep = h.shape[0] == n_steps
    for blk in prange((m_all + BLOCK - 1) // BLOCK):
        lo, hi = _block(blk, m_all)
        vb = v0[lo:hi].copy()
        bb = beta[lo:hi]
        tb = theta[lo:hi]
        for t in range(n_steps):
            row = t if keep else 0
            xt = x[t, lo:hi]
            ht_ = h[row, lo:hi]
            zt_ = z[t, lo:hi]
            for j in range(hi - lo):
                ht = bb[j] * vb[j] + xt[j]
                zt = _fire(ht - tb[j], c)
                ht_[j] = ht
                zt_[j] = zt
                vb[j] = _reset(ht, zt, tb[j], reset, c)
        v[lo:hi] = vb


@njit(parallel=True, cache=True, fastmath=False)
def _lif_backward(
    gz, gv_out, h, v0, beta, theta, c, reset, detach, kind, gx, gv, gbeta, gtheta
):  # pragma: no cover - compiled
    """Adjoint of :func:`_lif_forward` (module docstring); ``gv`` ends as ``dL/dv_0``."""
    n_steps, m_all = h.shape
    for blk in prange((m_all + BLOCK - 1) // BLOCK):
        lo, hi = _block(blk, m_all)
        n = hi - lo
        g_vb = gv_out[lo:hi].copy()
        gbb = np.zeros(n, h.dtype)
        gtb = np.zeros(n, h.dtype)
        vp = np.empty(n, h.dtype)
        ub = np.empty(n, h.dtype)
        sd = np.empty(n, h.dtype)
        bb = beta[lo:hi]
        tb = theta[lo:hi]
        for t in range(n_steps - 1, -1, -1):
            if t > 0:
                _previous_v(vp, h[t - 1, lo:hi], tb, reset, c)
            else:
                vp[:] = v0[lo:hi]
            ht_ = h[t, lo:hi]
            gzt = gz[t, lo:hi]
            gxt = gx[t, lo:hi]
            for j in range(n):
                ub[j] = ht_[j] - tb[j]
            _surrogate_row(sd, ub, kind, c)
            for j in range(n):
                th = tb[j]
                ht = ht_[j]
                zt = _fire(ub[j], c)
                g_v = g_vb[j]
                dvdz, dvdh, dvdth = _reset_partials(ht, zt, th, reset, detach, c)
                gzs = (gzt[j] + g_v * dvdz) * sd[j]
                gh = gzs + g_v * dvdh
                gtb[j] += g_v * dvdth - gzs
                gxt[j] = gh
                gbb[j] += gh * vp[j]
                g_vb[j] = bb[j] * gh
        gv[lo:hi] = g_vb
        gbeta[lo:hi] = gbb
        gtheta[lo:hi] = gtb


# -- CuBa-LIF ----------------------------------------------------------------------------------


@njit(parallel=True, cache=True, fastmath=False)
def _cuba_forward(x, v0, i0, alpha, beta, theta, c, reset, z, h, i, v):  # pragma: no cover
    """Fill ``z``, ``h``, ``i`` ``[T, M]`` (one-row ``h``, ``i``: not kept) and ``v`` ``[M]``."""
    n_steps, m_all = x.shape
    keep = h.shape[0] == n_steps
    keep_i = i.shape[0] == n_steps
    for blk in prange((m_all + BLOCK - 1) // BLOCK):
        lo, hi = _block(blk, m_all)
        vb = v0[lo:hi].copy()
        ib = i0[lo:hi].copy()
        ab = alpha[lo:hi]
        bb = beta[lo:hi]
        tb = theta[lo:hi]
        for t in range(n_steps):
            row = t if keep else 0
            xt = x[t, lo:hi]
            it_ = i[t if keep_i else 0, lo:hi]
            ht_ = h[row, lo:hi]
            zt_ = z[t, lo:hi]
            for j in range(hi - lo):
                it = ab[j] * ib[j] + xt[j]
                ht = bb[j] * vb[j] + it
                zt = _fire(ht - tb[j], c)
                it_[j] = it
                ht_[j] = ht
                zt_[j] = zt
                ib[j] = it
                vb[j] = _reset(ht, zt, tb[j], reset, c)
        v[lo:hi] = vb


@njit(parallel=True, cache=True, fastmath=False)
def _cuba_backward(
    gz,
    gv_out,
    gi_out,
    h,
    i,
    v0,
    i0,
    alpha,
    beta,
    theta,
    c,
    reset,
    detach,
    kind,
    gx,
    gv,
    gi,
    galpha,
    gbeta,
    gtheta,
):  # pragma: no cover - compiled
    r"""Adjoint of :func:`_cuba_forward`.

    On top of LIF's :math:`g_h`: :math:`\bar g_i = g_i + g_h` (``g_i`` carried from step t+1),
    :math:`\partial L/\partial x_t = \bar g_i`, :math:`\partial L/\partial\alpha \mathrel{+}=
    \bar g_i\, i_{t-1}`, :math:`g_i \leftarrow \alpha \bar g_i`. A one-row ``i`` (not kept,
    as :math:`\alpha` needs no gradient) leaves ``galpha`` at 0.
    """
    n_steps, m_all = h.shape
    keep_i = i.shape[0] == n_steps
    for blk in prange((m_all + BLOCK - 1) // BLOCK):
        lo, hi = _block(blk, m_all)
        n = hi - lo
        g_vb = gv_out[lo:hi].copy()
        g_ib = gi_out[lo:hi].copy()
        gab = np.zeros(n, h.dtype)
        gbb = np.zeros(n, h.dtype)
        gtb = np.zeros(n, h.dtype)
        no_current = np.zeros(n, h.dtype)
        vp = np.empty(n, h.dtype)
        ub = np.empty(n, h.dtype)
        sd = np.empty(n, h.dtype)
        ab = alpha[lo:hi]
        bb = beta[lo:hi]
        tb = theta[lo:hi]
        for t in range(n_steps - 1, -1, -1):
            if t > 0:
                _previous_v(vp, h[t - 1, lo:hi], tb, reset, c)
            else:
                vp[:] = v0[lo:hi]
            if not keep_i:
                ip = no_current
            elif t > 0:
                ip = i[t - 1, lo:hi]
            else:
                ip = i0[lo:hi]
            ht_ = h[t, lo:hi]
            gzt = gz[t, lo:hi]
            gxt = gx[t, lo:hi]
            for j in range(n):
                ub[j] = ht_[j] - tb[j]
            _surrogate_row(sd, ub, kind, c)
            for j in range(n):
                th = tb[j]
                ht = ht_[j]
                zt = _fire(ub[j], c)
                g_v = g_vb[j]
                dvdz, dvdh, dvdth = _reset_partials(ht, zt, th, reset, detach, c)
                gzs = (gzt[j] + g_v * dvdz) * sd[j]
                gh = gzs + g_v * dvdh
                gtb[j] += g_v * dvdth - gzs
                gbb[j] += gh * vp[j]
                g_vb[j] = bb[j] * gh
                g_i = g_ib[j] + gh
                gxt[j] = g_i
                gab[j] += g_i * ip[j]
                g_ib[j] = ab[j] * g_i
        gv[lo:hi] = g_vb
        gi[lo:hi] = g_ib
        galpha[lo:hi] = gab
        gbeta[lo:hi] = gbb
        gtheta[lo:hi] = gtb


# -- ALIF --------------------------------------------------------------------------------------


@njit(parallel=True, cache=True, fastmath=False)
def _alif_forward(
    x, v0, a0, beta, rho, omr, vth, badapt, c, reset, z, h, a, v
):  # pragma: no cover - compiled
    """Fill ``z``, ``h``, ``a`` ``[T, M]`` and the final potential ``v`` ``[M]``.

    ``omr`` is :math:`1-\\rho`, formed in torch as the step function forms it. One-row ``h``,
    ``a``: nothing is kept for a backward.
    """
    n_steps, m_all = x.shape
    keep = h.shape[0] == n_steps
    for blk in prange((m_all + BLOCK - 1) // BLOCK):
        lo, hi = _block(blk, m_all)
        vb = v0[lo:hi].copy()
        a_b = a0[lo:hi].copy()
        bb = beta[lo:hi]
        rb = rho[lo:hi]
        ob = omr[lo:hi]
        v0b = vth[lo:hi]
        kb = badapt[lo:hi]
        for t in range(n_steps):
            row = t if keep else 0
            xt = x[t, lo:hi]
            at_ = a[row, lo:hi]
            ht_ = h[row, lo:hi]
            zt_ = z[t, lo:hi]
            for j in range(hi - lo):
                ap = a_b[j]
                ht = bb[j] * vb[j] + xt[j]
                th = v0b[j] + kb[j] * ap
                zt = _fire(ht - th, c)
                at = rb[j] * ap + ob[j] * zt
                ht_[j] = ht
                zt_[j] = zt
                at_[j] = at
                a_b[j] = at
                vb[j] = _reset(ht, zt, th, reset, c)
        v[lo:hi] = vb


@njit(parallel=True, cache=True, fastmath=False)
def _alif_backward(
    gz,
    gv_out,
    ga_out,
    h,
    a,
    v0,
    a0,
    beta,
    rho,
    omr,
    vth,
    badapt,
    c,
    reset,
    detach,
    kind,
    gx,
    gv,
    ga,
    gbeta,
    grho,
    gomr,
    gvth,
    gbadapt,
):  # pragma: no cover - compiled
    r"""Adjoint of :func:`_alif_forward`.

    The spike also feeds the trace, so :math:`\bar g_z = \partial L/\partial z_t + g_v
    \partial v_t/\partial z_t + g_a (1-\rho)`; the threshold
    :math:`\vartheta_t = \vartheta_0 + b a_{t-1}` collects :math:`g_\vartheta = -\bar g_z
    \sigma' + g_v \partial v_t/\partial\vartheta_t`, which goes to :math:`\vartheta_0`, to
    :math:`b` (times :math:`a_{t-1}`) and back to the trace: :math:`g_a \leftarrow \rho g_a +
    b g_\vartheta`; :math:`\partial L/\partial\rho \mathrel{+}= g_a a_{t-1}`,
    :math:`\partial L/\partial(1-\rho) \mathrel{+}= g_a z_t`.
    """
    n_steps, m_all = h.shape
    for blk in prange((m_all + BLOCK - 1) // BLOCK):
        lo, hi = _block(blk, m_all)
        n = hi - lo
        g_vb = gv_out[lo:hi].copy()
        g_ab = ga_out[lo:hi].copy()
        gbb = np.zeros(n, h.dtype)
        grb = np.zeros(n, h.dtype)
        gob = np.zeros(n, h.dtype)
        gv0b = np.zeros(n, h.dtype)
        gkb = np.zeros(n, h.dtype)
        vp = np.empty(n, h.dtype)
        thp = np.empty(n, h.dtype)
        thb = np.empty(n, h.dtype)
        ub = np.empty(n, h.dtype)
        sd = np.empty(n, h.dtype)
        bb = beta[lo:hi]
        rb = rho[lo:hi]
        ob = omr[lo:hi]
        v0b = vth[lo:hi]
        kb = badapt[lo:hi]
        for t in range(n_steps - 1, -1, -1):
            ap = a[t - 1, lo:hi] if t > 0 else a0[lo:hi]
            if t > 0:  # v_{t-1} needs the threshold of step t-1, which reads a_{t-2}
                app = a[t - 2, lo:hi] if t > 1 else a0[lo:hi]
                for j in range(n):
                    thp[j] = v0b[j] + kb[j] * app[j]
                _previous_v(vp, h[t - 1, lo:hi], thp, reset, c)
            else:
                vp[:] = v0[lo:hi]
            ht_ = h[t, lo:hi]
            gzt = gz[t, lo:hi]
            gxt = gx[t, lo:hi]
            for j in range(n):
                thb[j] = v0b[j] + kb[j] * ap[j]
                ub[j] = ht_[j] - thb[j]
            _surrogate_row(sd, ub, kind, c)
            for j in range(n):
                apj = ap[j]
                th = thb[j]
                ht = ht_[j]
                zt = _fire(ub[j], c)
                g_v = g_vb[j]
                g_a = g_ab[j]
                dvdz, dvdh, dvdth = _reset_partials(ht, zt, th, reset, detach, c)
                gzs = (gzt[j] + g_v * dvdz + g_a * ob[j]) * sd[j]
                gh = gzs + g_v * dvdh
                gth = g_v * dvdth - gzs
                gob[j] += g_a * zt
                grb[j] += g_a * apj
                gv0b[j] += gth
                gkb[j] += gth * apj
                g_ab[j] = rb[j] * g_a + kb[j] * gth
                gxt[j] = gh
                gbb[j] += gh * vp[j]
                g_vb[j] = bb[j] * gh
        gv[lo:hi] = g_vb
        ga[lo:hi] = g_ab
        gbeta[lo:hi] = gbb
        grho[lo:hi] = grb
        gomr[lo:hi] = gob
        gvth[lo:hi] = gv0b
        gbadapt[lo:hi] = gkb


# -- torch operators ---------------------------------------------------------------------------
#
# Each family has a forward and a backward operator (``torch.library.custom_op``, with fake
# kernels, so that ``torch.compile`` keeps them opaque), and the forward operator carries its
# autograd (``register_autograd``). The public functions call the forward operator through a
# twin ``autograd.Function`` that reuses the same setup and backward: in torch 2.13 the
# autograd.Function that ``register_autograd`` generates has no ``setup_context``, which
# ``torch.func.grad`` requires (pytorch/pytorch#168393, #179652). Inside the twin's forward,
# grad mode is off, so the operator's own autograd is not entered twice. The backward calls
# the backward operator under ``no_grad`` for the same reason. The forward's last argument,
# ``save``, says whether autograd records the call; without it the per-step buffers are one
# scratch row and a backward through them raises.


def _np(t: Tensor) -> np.ndarray:
    """A NumPy view of a contiguous CPU tensor (no copy unless it must)."""
    return t.detach().contiguous().numpy()


def _grad_or_zeros(g: Tensor | None, like: Tensor) -> Tensor:
    return torch.zeros_like(like) if g is None else g.contiguous()


def _kept(x: Tensor, save: bool) -> Tensor:
    """Room for a per-step quantity: ``[T, M]`` to keep for the backward, else one scratch row."""
    return torch.empty_like(x) if save else x.new_empty((1, x.shape[1]))


def _check_saved(ctx) -> None:
    if not ctx.saved_steps:
        raise RuntimeError(
            "the fused forward kept nothing for a backward (it saw no input requiring grad with "
            "grad mode on); call it with grad enabled."
        )


def _needs_grad(*tensors: Tensor) -> bool:
    """Whether autograd will record the call, i.e. the forward must keep its per-step tensors."""
    return torch.is_grad_enabled() and any(t.requires_grad for t in tensors)


@torch.library.custom_op("dendrix::lif_cpu_forward", mutates_args=(), device_types="cpu")
def _lif_forward_op(
    x: Tensor,
    v0: Tensor,
    beta: Tensor,
    theta: Tensor,
    v_reset: float,
    reset: int,
    detach: bool,
    kind: int,
    alpha: float,
    save: bool,
) -> tuple[Tensor, Tensor, Tensor]:
    """``(z [T,M], v_T [M], h)``: ``h`` ``[T,M]`` for the backward if ``save``, else scratch."""
    z, v, h = torch.empty_like(x), torch.empty_like(v0), _kept(x, save)
    c = _coef(kind, alpha, v_reset, x.dtype)
    _lif_forward(_np(x), _np(v0), _np(beta), _np(theta), c, reset, z.numpy(), h.numpy(), v.numpy())
    return z, v, h


@_lif_forward_op.register_fake
def _(x, v0, beta, theta, v_reset, reset, detach, kind, alpha, save):
    return torch.empty_like(x), torch.empty_like(v0), _kept(x, save)


@torch.library.custom_op("dendrix::lif_cpu_backward", mutates_args=(), device_types="cpu")
def _lif_backward_op(
    gz: Tensor,
    gv_out: Tensor,
    h: Tensor,
    v0: Tensor,
    beta: Tensor,
    theta: Tensor,
    v_reset: float,
    reset: int,
    detach: bool,
    kind: int,
    alpha: float,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """``(dL/dx, dL/dv_0, dL/dbeta, dL/dtheta)``."""
    gx = torch.empty_like(h)
    gv, gbeta, gtheta = (torch.empty_like(v0) for _ in range(3))
    c = _coef(kind, alpha, v_reset, h.dtype)
    _lif_backward(
        _np(gz),
        _np(gv_out),
        _np(h),
        _np(v0),
        _np(beta),
        _np(theta),
        c,
        reset,
        detach,
        kind,
        gx.numpy(),
        gv.numpy(),
        gbeta.numpy(),
        gtheta.numpy(),
    )
    return gx, gv, gbeta, gtheta


@_lif_backward_op.register_fake
def _(gz, gv_out, h, v0, beta, theta, v_reset, reset, detach, kind, alpha):
    return (torch.empty_like(h), *(torch.empty_like(v0) for _ in range(3)))


def _lif_setup(ctx, inputs, output) -> None:
    _, v0, beta, theta, *scalars, save = inputs
    ctx.save_for_backward(output[2], v0, beta, theta)
    ctx.scalars = tuple(scalars)
    ctx.saved_steps = save
    ctx.mark_non_differentiable(output[2])
    ctx.set_materialize_grads(False)


def _lif_backward_fn(ctx, gz, gv_out, _gh):
    h, v0, beta, theta = ctx.saved_tensors
    if gz is None and gv_out is None:
        return (None,) * 10
    _check_saved(ctx)
    with torch.no_grad():  # the backward operator has no derivative (no double backward)
        grads = torch.ops.dendrix.lif_cpu_backward(
            _grad_or_zeros(gz, h), _grad_or_zeros(gv_out, v0), h, v0, beta, theta, *ctx.scalars
        )
    return (*grads, None, None, None, None, None, None)


_lif_forward_op.register_autograd(_lif_backward_fn, setup_context=_lif_setup)


class _LIFFunction(torch.autograd.Function):
    """``dendrix::lif_cpu_forward`` and its autograd, in the form ``torch.func`` needs."""

    @staticmethod
    def forward(*inputs):  # type: ignore[override]
        return torch.ops.dendrix.lif_cpu_forward(*inputs)

    setup_context = staticmethod(_lif_setup)
    backward = staticmethod(_lif_backward_fn)


@torch.library.custom_op("dendrix::cuba_lif_cpu_forward", mutates_args=(), device_types="cpu")
def _cuba_forward_op(
    x: Tensor,
    v0: Tensor,
    i0: Tensor,
    alpha_syn: Tensor,
    beta: Tensor,
    theta: Tensor,
    v_reset: float,
    reset: int,
    detach: bool,
    kind: int,
    alpha: float,
    save: bool,
    save_current: bool,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """``(z [T,M], v_T [M], i_T [M], h, i)``: ``h`` ``[T,M]`` if ``save``, ``i`` ``[T,M]`` if
    ``save_current`` (only ``dL/dalpha_syn`` needs it), else scratch."""
    z, h, i = torch.empty_like(x), _kept(x, save), _kept(x, save_current)
    v = torch.empty_like(v0)
    c = _coef(kind, alpha, v_reset, x.dtype)
    _cuba_forward(
        _np(x),
        _np(v0),
        _np(i0),
        _np(alpha_syn),
        _np(beta),
        _np(theta),
        c,
        reset,
        z.numpy(),
        h.numpy(),
        i.numpy(),
        v.numpy(),
    )
    return z, v, i[-1].clone(), h, i


@_cuba_forward_op.register_fake
def _(x, v0, i0, alpha_syn, beta, theta, v_reset, reset, detach, kind, alpha, save, save_current):
    return (
        torch.empty_like(x),
        torch.empty_like(v0),
        torch.empty_like(v0),
        _kept(x, save),
        _kept(x, save_current),
    )


@torch.library.custom_op("dendrix::cuba_lif_cpu_backward", mutates_args=(), device_types="cpu")
def _cuba_backward_op(
    gz: Tensor,
    gv_out: Tensor,
    gi_out: Tensor,
    h: Tensor,
    i: Tensor,
    v0: Tensor,
    i0: Tensor,
    alpha_syn: Tensor,
    beta: Tensor,
    theta: Tensor,
    v_reset: float,
    reset: int,
    detach: bool,
    kind: int,
    alpha: float,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
    """``(dL/dx, dL/dv_0, dL/di_0, dL/dalpha_syn, dL/dbeta, dL/dtheta)``."""
    gx = torch.empty_like(h)
    gv, gi, galpha, gbeta, gtheta = (torch.empty_like(v0) for _ in range(5))
    c = _coef(kind, alpha, v_reset, h.dtype)
    _cuba_backward(
        _np(gz),
        _np(gv_out),
        _np(gi_out),
        _np(h),
        _np(i),
        _np(v0),
        _np(i0),
        _np(alpha_syn),
        _np(beta),
        _np(theta),
        c,
        reset,
        detach,
        kind,
        gx.numpy(),
        gv.numpy(),
        gi.numpy(),
        galpha.numpy(),
        gbeta.numpy(),
        gtheta.numpy(),
    )
    return gx, gv, gi, galpha, gbeta, gtheta


@_cuba_backward_op.register_fake
def _(
    gz, gv_out, gi_out, h, i, v0, i0, alpha_syn, beta, theta, v_reset, reset, detach, kind, alpha
):
    return (torch.empty_like(h), *(torch.empty_like(v0) for _ in range(5)))


def _cuba_setup(ctx, inputs, output) -> None:
    _, v0, i0, alpha_syn, beta, theta, *scalars, save, save_current = inputs
    _, _, _, h, i = output
    ctx.save_for_backward(h, i, v0, i0, alpha_syn, beta, theta)
    ctx.scalars = tuple(scalars)
    ctx.saved_steps = save
    ctx.saved_current = save_current
    ctx.mark_non_differentiable(h, i)
    ctx.set_materialize_grads(False)


def _cuba_backward_fn(ctx, gz, gv_out, gi_out, _gh, _gi):
    h, i, v0, i0, alpha_syn, beta, theta = ctx.saved_tensors
    if gz is None and gv_out is None and gi_out is None:
        return (None,) * 13
    _check_saved(ctx)
    with torch.no_grad():  # the backward operator has no derivative (no double backward)
        grads = torch.ops.dendrix.cuba_lif_cpu_backward(
            _grad_or_zeros(gz, h),
            _grad_or_zeros(gv_out, v0),
            _grad_or_zeros(gi_out, i0),
            h,
            i,
            v0,
            i0,
            alpha_syn,
            beta,
            theta,
            *ctx.scalars,
        )
    gx, gv, gi, galpha, gbeta, gtheta = grads
    galpha = galpha if ctx.saved_current else None
    return (gx, gv, gi, galpha, gbeta, gtheta, None, None, None, None, None, None, None)


_cuba_forward_op.register_autograd(_cuba_backward_fn, setup_context=_cuba_setup)


class _CubaLIFFunction(torch.autograd.Function):
    """``dendrix::cuba_lif_cpu_forward`` and its autograd, in the form ``torch.func`` needs."""

    @staticmethod
    def forward(*inputs):  # type: ignore[override]
        return torch.ops.dendrix.cuba_lif_cpu_forward(*inputs)

    setup_context = staticmethod(_cuba_setup)
    backward = staticmethod(_cuba_backward_fn)


@torch.library.custom_op("dendrix::alif_cpu_forward", mutates_args=(), device_types="cpu")
def _alif_forward_op(
    x: Tensor,
    v0: Tensor,
    a0: Tensor,
    beta: Tensor,
    rho: Tensor,
    omr: Tensor,
    vth: Tensor,
    badapt: Tensor,
    v_reset: float,
    reset: int,
    detach: bool,
    kind: int,
    alpha: float,
    save: bool,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """``(z [T,M], v_T [M], a_T [M], h, a)``: ``h``, ``a`` ``[T,M]`` if ``save``, else scratch."""
    z, h, a = torch.empty_like(x), _kept(x, save), _kept(x, save)
    v = torch.empty_like(v0)
    c = _coef(kind, alpha, v_reset, x.dtype)
    _alif_forward(
        _np(x),
        _np(v0),
        _np(a0),
        _np(beta),
        _np(rho),
        _np(omr),
        _np(vth),
        _np(badapt),
        c,
        reset,
        z.numpy(),
        h.numpy(),
        a.numpy(),
        v.numpy(),
    )
    return z, v, a[-1].clone(), h, a


@_alif_forward_op.register_fake
def _(x, v0, a0, beta, rho, omr, vth, badapt, v_reset, reset, detach, kind, alpha, save):
    return (
        torch.empty_like(x),
        torch.empty_like(v0),
        torch.empty_like(v0),
        _kept(x, save),
        _kept(x, save),
    )


@torch.library.custom_op("dendrix::alif_cpu_backward", mutates_args=(), device_types="cpu")
def _alif_backward_op(
    gz: Tensor,
    gv_out: Tensor,
    ga_out: Tensor,
    h: Tensor,
    a: Tensor,
    v0: Tensor,
    a0: Tensor,
    beta: Tensor,
    rho: Tensor,
    omr: Tensor,
    vth: Tensor,
    badapt: Tensor,
    v_reset: float,
    reset: int,
    detach: bool,
    kind: int,
    alpha: float,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
    """``dL/d(x, v_0, a_0, beta, rho, 1-rho, v_th, beta_adapt)``."""
    gx = torch.empty_like(h)
    rest = [torch.empty_like(v0) for _ in range(7)]
    c = _coef(kind, alpha, v_reset, h.dtype)
    _alif_backward(
        _np(gz),
        _np(gv_out),
        _np(ga_out),
        _np(h),
        _np(a),
        _np(v0),
        _np(a0),
        _np(beta),
        _np(rho),
        _np(omr),
        _np(vth),
        _np(badapt),
        c,
        reset,
        detach,
        kind,
        gx.numpy(),
        *(r.numpy() for r in rest),
    )
    return (gx, *rest)


@_alif_backward_op.register_fake
def _(
    gz,
    gv_out,
    ga_out,
    h,
    a,
    v0,
    a0,
    beta,
    rho,
    omr,
    vth,
    badapt,
    v_reset,
    reset,
    detach,
    kind,
    alpha,
):
    return (torch.empty_like(h), *(torch.empty_like(v0) for _ in range(7)))


def _alif_setup(ctx, inputs, output) -> None:
    _, v0, a0, beta, rho, omr, vth, badapt, *scalars, save = inputs
    _, _, _, h, a = output
    ctx.save_for_backward(h, a, v0, a0, beta, rho, omr, vth, badapt)
    ctx.scalars = tuple(scalars)
    ctx.saved_steps = save
    ctx.mark_non_differentiable(h, a)
    ctx.set_materialize_grads(False)


def _alif_backward_fn(ctx, gz, gv_out, ga_out, _gh, _ga):
    h, a, v0, a0, beta, rho, omr, vth, badapt = ctx.saved_tensors
    if gz is None and gv_out is None and ga_out is None:
        return (None,) * 14
    _check_saved(ctx)
    with torch.no_grad():  # the backward operator has no derivative (no double backward)
        grads = torch.ops.dendrix.alif_cpu_backward(
            _grad_or_zeros(gz, h),
            _grad_or_zeros(gv_out, v0),
            _grad_or_zeros(ga_out, a0),
            h,
            a,
            v0,
            a0,
            beta,
            rho,
            omr,
            vth,
            badapt,
            *ctx.scalars,
        )
    return (*grads, None, None, None, None, None, None)


_alif_forward_op.register_autograd(_alif_backward_fn, setup_context=_alif_setup)


class _ALIFFunction(torch.autograd.Function):
    """``dendrix::alif_cpu_forward`` and its autograd, in the form ``torch.func`` needs."""

    @staticmethod
    def forward(*inputs):  # type: ignore[override]
        return torch.ops.dendrix.alif_cpu_forward(*inputs)

    setup_context = staticmethod(_alif_setup)
    backward = staticmethod(_alif_backward_fn)


# -- public entry points -----------------------------------------------------------------------


class _Flat(NamedTuple):
    """A sequence flattened to ``[T, M]`` and the shape of one step."""

    x: Tensor
    step_shape: torch.Size
    n: int


def _flatten(x: Tensor) -> _Flat:
    step_shape = x.shape[1:]
    n = step_shape.numel()
    return _Flat(x.reshape(x.shape[0], n), step_shape, n)


def _per_neuron(value: Tensor | float, f: _Flat, dtype: torch.dtype) -> Tensor:
    """``value`` (float or tensor broadcastable to one step) as a contiguous ``[M]`` tensor."""
    if isinstance(value, Tensor):
        return torch.broadcast_to(value.to(dtype), f.step_shape).reshape(f.n)
    return torch.full((f.n,), value, dtype=dtype)


def _scalars(p: LIFParameters | CubaLIFParameters | ALIFParameters) -> tuple:
    """``(v_reset, reset code, detach, surrogate kind, surrogate alpha)`` for the operators."""
    return (
        float(p.v_reset),
        RESET_CODES[p.reset],
        bool(p.detach_reset),
        int(p.surrogate.kind),
        float(p.surrogate.alpha),
    )


def lif_multistep_cpu(
    x: Tensor, state: LIFState, p: LIFParameters, dt: float
) -> tuple[Tensor, LIFState]:
    """Fused LIF over ``x`` ``[T, B, ...]`` (no refractory period; arguments already checked).

    Returns ``(z [T, B, ...], final state)`` equal to
    :func:`~dendrix.spiking.kernels.reference.lif_multistep_reference`; ``state.r`` passes
    through unchanged, as it does there without a refractory period.
    """
    f = _flatten(x)
    dtype = x.dtype
    beta = _per_neuron(decay_unchecked(p.tau_mem, dt), f, dtype)
    theta = _per_neuron(p.v_th, f, dtype)
    inputs = (f.x, state.v.reshape(f.n), beta, theta)
    z, v, _ = _LIFFunction.apply(*inputs, *_scalars(p), _needs_grad(*inputs))
    return z.reshape(x.shape), LIFState(v=v.reshape(f.step_shape), r=state.r)


def cuba_lif_multistep_cpu(
    x: Tensor, state: CubaLIFState, p: CubaLIFParameters, dt: float
) -> tuple[Tensor, CubaLIFState]:
    """Fused CuBa-LIF over ``x`` ``[T, B, ...]`` (arguments already checked)."""
    f = _flatten(x)
    dtype = x.dtype
    alpha_syn = _per_neuron(decay_unchecked(p.tau_syn, dt), f, dtype)
    beta = _per_neuron(decay_unchecked(p.tau_mem, dt), f, dtype)
    theta = _per_neuron(p.v_th, f, dtype)
    inputs = (f.x, state.v.reshape(f.n), state.i.reshape(f.n), alpha_syn, beta, theta)
    save = _needs_grad(*inputs)
    z, v, i, _, _ = _CubaLIFFunction.apply(
        *inputs, *_scalars(p), save, save and alpha_syn.requires_grad
    )
    return z.reshape(x.shape), CubaLIFState(v=v.reshape(f.step_shape), i=i.reshape(f.step_shape))


def alif_multistep_cpu(
    x: Tensor, state: ALIFState, p: ALIFParameters, dt: float
) -> tuple[Tensor, ALIFState]:
    """Fused ALIF over ``x`` ``[T, B, ...]`` (arguments already checked)."""
    f = _flatten(x)
    dtype = x.dtype
    rho = decay_unchecked(p.tau_adapt, dt)
    beta = _per_neuron(decay_unchecked(p.tau_mem, dt), f, dtype)
    # 1 - rho is formed before the cast, as alif_step forms it
    inputs = (
        f.x,
        state.v.reshape(f.n),
        state.a.reshape(f.n),
        beta,
        _per_neuron(rho, f, dtype),
        _per_neuron(1.0 - rho, f, dtype),
        _per_neuron(p.v_th, f, dtype),
        _per_neuron(p.beta_adapt, f, dtype),
    )
    z, v, a, _, _ = _ALIFFunction.apply(*inputs, *_scalars(p), _needs_grad(*inputs))
    return z.reshape(x.shape), ALIFState(v=v.reshape(f.step_shape), a=a.reshape(f.step_shape))
