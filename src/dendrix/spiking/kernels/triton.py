r"""Fused Triton kernels for the LIF, CuBa-LIF and ALIF time loops, forward and backward.

Each ``*_multistep_triton(x, state, p, dt) -> (z, state)`` equals
``scan(step, x, state, p, dt)`` of its family (:mod:`dendrix.spiking.functional.lif`,
:mod:`~dendrix.spiking.functional.cuba_lif`, :mod:`~dendrix.spiking.functional.alif`, where the
equations live) in outputs and gradients, up to float32 rounding.

**Layout.** ``x`` ``[T, B, ...]`` is viewed as ``[T, M]`` with ``M = B * prod(features)``. One
program owns ``BLOCK`` neurons, keeps their state in float32 registers and loops over the ``T``
steps; parameters are expanded to ``[M]`` in torch first, so autograd sums their gradients
back to the shape they were given in.

**Backward.** A second kernel runs the same loop in reverse. It keeps memory lean: the forward
saves only the pre-reset membrane :math:`h_t` (and, for CuBa-LIF, the current :math:`i_t`; for
ALIF, the trace :math:`a_t`), and the backward recomputes :math:`z_t = H(h_t - \vartheta_t)` and
the post-reset :math:`v_{t-1}` from them. With :math:`g^v_t = \partial L/\partial v_t` carried
backwards and :math:`v_t = \mathrm{reset}(h_t, z_t, \vartheta_t)`:

.. math::

    g^z_t &= \partial L/\partial z_t + g^v_t\, \partial v_t/\partial z_t
          \quad(+\,(1-\rho)\, g^a_t \text{ for ALIF})\\
    g^h_t &= g^z_t\, \sigma'(h_t - \vartheta_t) + g^v_t\, \partial v_t/\partial h_t, \qquad
    g^\vartheta_t = -g^z_t\, \sigma'(h_t - \vartheta_t) + g^v_t\, \partial v_t/\partial\vartheta_t\\
    g^v_{t-1} &= \beta\, g^h_t, \qquad
    \partial L/\partial\beta \mathrel{+}= g^h_t\, v_{t-1}

with :math:`\partial v/\partial z = -\vartheta` (subtract), :math:`v_{reset} - h` (zero), 0
(none, or ``detach_reset``), :math:`\partial v/\partial h = 1` (:math:`1 - z` for zero) and
:math:`\partial v/\partial\vartheta = -z` (subtract only). CuBa-LIF adds
:math:`g^i_t = g^h_t + \alpha\, g^i_{t+1}`; ALIF sends :math:`g^\vartheta_t` on to :math:`b` and
:math:`a_{t-1}` (:math:`\vartheta_t = \vartheta_0 + b\, a_{t-1}`). The kernels return
:math:`\partial L/\partial\beta` (and :math:`\partial L/\partial\alpha`,
:math:`\partial L/\partial\rho`); the decays are computed in torch from the time constants, so
autograd carries on to :math:`\tau`.

**Precision.** float32, float16 and bfloat16 inputs are accepted; state and gradients are
accumulated in float32 inside the kernels and the saved tensors are float32, so a half
precision run equals the float32 reference on the same inputs rounded at the end, not the
reference run in half precision (which rounds at every step). float64 is refused.

**Where it runs.** On CUDA tensors, or on CPU tensors under Triton's interpreter
(``TRITON_INTERPRET=1``, slow, for tests). Triton is imported only when a kernel first runs;
importing this module never needs it. The ops are ``torch.library`` custom ops
(``dendrix_triton::*``), opaque to ``torch.compile``. A refractory period is not supported.

Example (needs a GPU, or ``TRITON_INTERPRET=1`` with CPU tensors)::

    from dendrix.spiking.functional.lif import LIFParameters, lif_initial_state
    x = torch.rand(100, 32, 512, device="cuda")                       # [T, B, N]
    z, state = lif_multistep_triton(x, lif_initial_state(x[0]), LIFParameters(), dt=1e-3)
"""

from __future__ import annotations

import contextlib
import math
import os
from typing import Any

import torch
from torch import Tensor

from dendrix.spiking.functional.alif import ALIFParameters, ALIFState
from dendrix.spiking.functional.base import decay_unchecked
from dendrix.spiking.functional.cuba_lif import CubaLIFParameters, CubaLIFState
from dendrix.spiking.functional.lif import RESETS, LIFParameters, LIFState, refractory_steps
from dendrix.spiking.surrogate import Surrogate

__all__ = [
    "alif_multistep_triton",
    "cuba_lif_multistep_triton",
    "lif_multistep_triton",
    "triton_available",
]

BLOCK = 256  # neurons per program (untuned: one scan per neuron, bound by memory traffic)
NUM_WARPS = 4
_DTYPES = (torch.float32, torch.float16, torch.bfloat16)
_RESET_CODE = {name: code for code, name in enumerate(RESETS)}  # subtract 0, zero 1, none 2
_TRUE = ("1", "true", "yes", "on", "y")

# ---------------------------------------------------------------------------------------------
# Availability and lazy kernel construction
# ---------------------------------------------------------------------------------------------

_triton_import_error: BaseException | None = None
_triton_checked = False


def _triton_importable() -> bool:
    global _triton_checked, _triton_import_error
    if not _triton_checked:
        try:
            import triton
            import triton.language  # noqa: F401
        except Exception as exc:  # ImportError, or a broken install
            _triton_import_error = exc
        _triton_checked = True
    return _triton_import_error is None


def _interpreting() -> bool:
    """Whether Triton's interpreter is on (``TRITON_INTERPRET``, read when kernels are built)."""
    return os.environ.get("TRITON_INTERPRET", "0").strip().lower() in _TRUE


def triton_available() -> bool:
    """Whether these kernels can run here: Triton imports, and CUDA or its interpreter is on."""
    if not hasattr(torch.library, "custom_op"):  # torch < 2.4
        return False
    if not _triton_importable():
        return False
    return torch.cuda.is_available() or _interpreting()


# The kernels are defined on first use, by _build(), as module globals: Triton resolves the
# helpers a kernel calls through the kernel's globals (its interpreter re-executes the source
# and drops closures), and `triton.jit` reads TRITON_INTERPRET when it decorates, so the
# kernels are rebuilt whenever that setting changed since the last build. They call only
# Triton builtins (tl.full, tl.exp, ...), never the @jit helpers of triton.language
# (tl.zeros, tl.sigmoid): those were decorated when triton was imported, and the interpreter
# cannot call them if that import happened with the interpreter off (torch may import triton).
triton: Any = None
tl: Any = None
_built_for: bool | None = None


def _kernels() -> None:
    global _built_for
    interpret = _interpreting()
    if _built_for is not interpret:
        if not _triton_importable():
            raise RuntimeError(
                "the Triton backend needs the `triton` package (pip install triton); it failed to"
                f" import: {_triton_import_error!r}. Use backend='cpu' or 'reference' instead."
            )
        _build()
        _built_for = interpret


def _build() -> None:
    global triton, tl, _spike_grad, _reset_v
    global _lif_fwd_kernel, _lif_bwd_kernel, _cuba_fwd_kernel, _cuba_bwd_kernel
    global _alif_fwd_kernel, _alif_bwd_kernel
    import triton
    import triton.language as tl

    @triton.jit
    def _spike_grad(u, alpha, c, KIND: tl.constexpr):
        # sigma'(u), as surrogate_derivative; c = pi/2*alpha (atan) or 0.5/alpha (straight-through)
        if KIND == 0:  # fast sigmoid
            d = 1.0 + alpha * tl.abs(u)
            g = 1.0 / (d * d)
        elif KIND == 1:  # atan
            w = c * u
            g = (alpha * 0.5) / (1.0 + w * w)
        elif KIND == 2:  # sigmoid
            s = 1.0 / (1.0 + tl.exp(-(alpha * u)))  # tl.sigmoid, spelled out (see _build)
            g = alpha * s * (1.0 - s)
        elif KIND == 3:  # triangle
            g = alpha * tl.maximum(1.0 - alpha * tl.abs(u), 0.0)
        else:  # straight-through
            g = tl.where(tl.abs(u) < c, alpha, 0.0)
        return g

    @triton.jit
    def _reset_v(h, z, theta, v_reset, RESET: tl.constexpr):
        if RESET == 0:  # subtract
            v = h - z * theta
        elif RESET == 1:  # zero
            v = h * (1.0 - z) + z * v_reset
        else:
            v = h
        return v

    # ------------------------------------------------------------------------------- LIF
    @triton.jit
    def _lif_fwd_kernel(
        x_ptr,
        v0_ptr,
        beta_ptr,
        vth_ptr,  # in: [T, M], [M] x3
        z_ptr,
        vT_ptr,
        h_ptr,  # out: [T, M], [M], [T, M] float32 (if SAVE)
        T,
        M,
        v_reset,
        RESET: tl.constexpr,
        SAVE: tl.constexpr,
        BLOCK: tl.constexpr,
    ):
        offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        mask = offs < M
        v = tl.load(v0_ptr + offs, mask=mask, other=0.0).to(tl.float32)
        beta = tl.load(beta_ptr + offs, mask=mask, other=0.0)
        vth = tl.load(vth_ptr + offs, mask=mask, other=0.0)
        x_p = x_ptr + offs
        z_p = z_ptr + offs
        h_p = h_ptr + offs
        for _ in range(T):
            x = tl.load(x_p, mask=mask, other=0.0).to(tl.float32)
            h = beta * v + x
            z = tl.where(h - vth >= 0.0, 1.0, 0.0)
            tl.store(z_p, z.to(z_ptr.dtype.element_ty), mask=mask)
            if SAVE:
                tl.store(h_p, h, mask=mask)
            v = _reset_v(h, z, vth, v_reset, RESET)
            x_p += M
            z_p += M
            h_p += M
        tl.store(vT_ptr + offs, v.to(vT_ptr.dtype.element_ty), mask=mask)

    @triton.jit
    def _lif_bwd_kernel(
        gz_ptr,
        gvT_ptr,
        h_ptr,
        v0_ptr,
        beta_ptr,
        vth_ptr,  # in
        gx_ptr,
        gv0_ptr,
        gbeta_ptr,
        gvth_ptr,  # out: [T, M], [M], [M] f32, [M] f32
        T,
        M,
        last,
        v_reset,
        alpha,
        c,  # last = (T-1)*M
        RESET: tl.constexpr,
        DETACH: tl.constexpr,
        KIND: tl.constexpr,
        HAS_GZ: tl.constexpr,
        HAS_GV: tl.constexpr,
        BLOCK: tl.constexpr,
    ):
        offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        mask = offs < M
        beta = tl.load(beta_ptr + offs, mask=mask, other=0.0)
        vth = tl.load(vth_ptr + offs, mask=mask, other=0.0)
        v0 = tl.load(v0_ptr + offs, mask=mask, other=0.0).to(tl.float32)
        if HAS_GV:
            gv = tl.load(gvT_ptr + offs, mask=mask, other=0.0).to(tl.float32)
        else:
            gv = tl.full([BLOCK], 0.0, tl.float32)
        gbeta = tl.full([BLOCK], 0.0, tl.float32)
        gvth = tl.full([BLOCK], 0.0, tl.float32)
        h_p = h_ptr + last + offs
        gz_p = gz_ptr + last + offs
        gx_p = gx_ptr + last + offs
        h = tl.load(h_p, mask=mask, other=0.0)
        for i in range(T):
            t = T - 1 - i
            # v_{t-1}: recomputed from h_{t-1}, or the initial state
            prev = tl.full([BLOCK], t, tl.int32) > 0  # (a block: the interpreter wants one)
            h_prev = tl.load(h_p - M, mask=mask & prev, other=0.0)
            z_prev = tl.where(h_prev - vth >= 0.0, 1.0, 0.0)
            v_prev = tl.where(prev, _reset_v(h_prev, z_prev, vth, v_reset, RESET), v0)
            u = h - vth
            z = tl.where(u >= 0.0, 1.0, 0.0)
            if HAS_GZ:
                gz = tl.load(gz_p, mask=mask, other=0.0).to(tl.float32)
            else:
                gz = tl.full([BLOCK], 0.0, tl.float32)
            if RESET == 0:
                gh_v = gv
                gth_v = -gv * z
                if not DETACH:
                    gz = gz - gv * vth
            elif RESET == 1:
                gh_v = gv * (1.0 - z)
                gth_v = tl.full([BLOCK], 0.0, tl.float32)
                if not DETACH:
                    gz = gz + gv * (v_reset - h)
            else:
                gh_v = gv
                gth_v = tl.full([BLOCK], 0.0, tl.float32)
            gu = gz * _spike_grad(u, alpha, c, KIND)
            gh = gu + gh_v
            gvth += gth_v - gu
            gbeta += gh * v_prev
            tl.store(gx_p, gh.to(gx_ptr.dtype.element_ty), mask=mask)
            gv = beta * gh
            h = h_prev
            h_p -= M
            gz_p -= M
            gx_p -= M
        tl.store(gv0_ptr + offs, gv.to(gv0_ptr.dtype.element_ty), mask=mask)
        tl.store(gbeta_ptr + offs, gbeta, mask=mask)
        tl.store(gvth_ptr + offs, gvth, mask=mask)

    # ------------------------------------------------------------------------------- CuBa-LIF
    @triton.jit
    def _cuba_fwd_kernel(
        x_ptr,
        v0_ptr,
        i0_ptr,
        alpha_ptr,
        beta_ptr,
        vth_ptr,
        z_ptr,
        vT_ptr,
        iT_ptr,
        h_ptr,
        i_ptr,  # h, i: [T, M] float32 (if SAVE)
        T,
        M,
        v_reset,
        RESET: tl.constexpr,
        SAVE: tl.constexpr,
        BLOCK: tl.constexpr,
    ):
        offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        mask = offs < M
        v = tl.load(v0_ptr + offs, mask=mask, other=0.0).to(tl.float32)
        cur = tl.load(i0_ptr + offs, mask=mask, other=0.0).to(tl.float32)
        syn = tl.load(alpha_ptr + offs, mask=mask, other=0.0)
        beta = tl.load(beta_ptr + offs, mask=mask, other=0.0)
        vth = tl.load(vth_ptr + offs, mask=mask, other=0.0)
        x_p = x_ptr + offs
        z_p = z_ptr + offs
        h_p = h_ptr + offs
        i_p = i_ptr + offs
        for _ in range(T):
            x = tl.load(x_p, mask=mask, other=0.0).to(tl.float32)
            cur = syn * cur + x
            h = beta * v + cur
            z = tl.where(h - vth >= 0.0, 1.0, 0.0)
            tl.store(z_p, z.to(z_ptr.dtype.element_ty), mask=mask)
            if SAVE:
                tl.store(h_p, h, mask=mask)
                tl.store(i_p, cur, mask=mask)
            v = _reset_v(h, z, vth, v_reset, RESET)
            x_p += M
            z_p += M
            h_p += M
            i_p += M
        tl.store(vT_ptr + offs, v.to(vT_ptr.dtype.element_ty), mask=mask)
        tl.store(iT_ptr + offs, cur.to(iT_ptr.dtype.element_ty), mask=mask)

    @triton.jit
    def _cuba_bwd_kernel(
        gz_ptr,
        gvT_ptr,
        giT_ptr,
        h_ptr,
        i_ptr,
        v0_ptr,
        i0_ptr,
        alpha_ptr,
        beta_ptr,
        vth_ptr,
        gx_ptr,
        gv0_ptr,
        gi0_ptr,
        galpha_ptr,
        gbeta_ptr,
        gvth_ptr,
        T,
        M,
        last,
        v_reset,
        alpha,
        c,
        RESET: tl.constexpr,
        DETACH: tl.constexpr,
        KIND: tl.constexpr,
        HAS_GZ: tl.constexpr,
        HAS_GV: tl.constexpr,
        HAS_GI: tl.constexpr,
        BLOCK: tl.constexpr,
    ):
        offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        mask = offs < M
        syn = tl.load(alpha_ptr + offs, mask=mask, other=0.0)
        beta = tl.load(beta_ptr + offs, mask=mask, other=0.0)
        vth = tl.load(vth_ptr + offs, mask=mask, other=0.0)
        v0 = tl.load(v0_ptr + offs, mask=mask, other=0.0).to(tl.float32)
        i0 = tl.load(i0_ptr + offs, mask=mask, other=0.0).to(tl.float32)
        if HAS_GV:
            gv = tl.load(gvT_ptr + offs, mask=mask, other=0.0).to(tl.float32)
        else:
            gv = tl.full([BLOCK], 0.0, tl.float32)
        if HAS_GI:
            gi = tl.load(giT_ptr + offs, mask=mask, other=0.0).to(tl.float32)
        else:
            gi = tl.full([BLOCK], 0.0, tl.float32)
        galpha = tl.full([BLOCK], 0.0, tl.float32)
        gbeta = tl.full([BLOCK], 0.0, tl.float32)
        gvth = tl.full([BLOCK], 0.0, tl.float32)
        h_p = h_ptr + last + offs
        i_p = i_ptr + last + offs
        gz_p = gz_ptr + last + offs
        gx_p = gx_ptr + last + offs
        h = tl.load(h_p, mask=mask, other=0.0)
        for k in range(T):
            t = T - 1 - k
            prev = tl.full([BLOCK], t, tl.int32) > 0
            h_prev = tl.load(h_p - M, mask=mask & prev, other=0.0)
            z_prev = tl.where(h_prev - vth >= 0.0, 1.0, 0.0)
            v_prev = tl.where(prev, _reset_v(h_prev, z_prev, vth, v_reset, RESET), v0)
            i_prev = tl.where(prev, tl.load(i_p - M, mask=mask & prev, other=0.0), i0)
            u = h - vth
            z = tl.where(u >= 0.0, 1.0, 0.0)
            if HAS_GZ:
                gz = tl.load(gz_p, mask=mask, other=0.0).to(tl.float32)
            else:
                gz = tl.full([BLOCK], 0.0, tl.float32)
            if RESET == 0:
                gh_v = gv
                gth_v = -gv * z
                if not DETACH:
                    gz = gz - gv * vth
            elif RESET == 1:
                gh_v = gv * (1.0 - z)
                gth_v = tl.full([BLOCK], 0.0, tl.float32)
                if not DETACH:
                    gz = gz + gv * (v_reset - h)
            else:
                gh_v = gv
                gth_v = tl.full([BLOCK], 0.0, tl.float32)
            gu = gz * _spike_grad(u, alpha, c, KIND)
            gh = gu + gh_v
            gvth += gth_v - gu
            gbeta += gh * v_prev
            gv = beta * gh
            gi = gi + gh  # dL/di_t: through h_t and through i_{t+1}
            galpha += gi * i_prev
            tl.store(gx_p, gi.to(gx_ptr.dtype.element_ty), mask=mask)
            gi = syn * gi
            h = h_prev
            h_p -= M
            i_p -= M
            gz_p -= M
            gx_p -= M
        tl.store(gv0_ptr + offs, gv.to(gv0_ptr.dtype.element_ty), mask=mask)
        tl.store(gi0_ptr + offs, gi.to(gi0_ptr.dtype.element_ty), mask=mask)
        tl.store(galpha_ptr + offs, galpha, mask=mask)
        tl.store(gbeta_ptr + offs, gbeta, mask=mask)
        tl.store(gvth_ptr + offs, gvth, mask=mask)

    # ------------------------------------------------------------------------------- ALIF
    @triton.jit
    def _alif_fwd_kernel(
        x_ptr,
        v0_ptr,
        a0_ptr,
        beta_ptr,
        rho_ptr,
        omr_ptr,
        vth_ptr,
        b_ptr,  # omr = 1 - rho
        z_ptr,
        vT_ptr,
        aT_ptr,
        h_ptr,
        a_ptr,  # h, a: [T, M] float32 (if SAVE)
        T,
        M,
        v_reset,
        RESET: tl.constexpr,
        SAVE: tl.constexpr,
        BLOCK: tl.constexpr,
    ):
        offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        mask = offs < M
        v = tl.load(v0_ptr + offs, mask=mask, other=0.0).to(tl.float32)
        a = tl.load(a0_ptr + offs, mask=mask, other=0.0).to(tl.float32)
        beta = tl.load(beta_ptr + offs, mask=mask, other=0.0)
        rho = tl.load(rho_ptr + offs, mask=mask, other=0.0)
        omr = tl.load(omr_ptr + offs, mask=mask, other=0.0)
        vth = tl.load(vth_ptr + offs, mask=mask, other=0.0)
        b = tl.load(b_ptr + offs, mask=mask, other=0.0)
        x_p = x_ptr + offs
        z_p = z_ptr + offs
        h_p = h_ptr + offs
        a_p = a_ptr + offs
        for _ in range(T):
            x = tl.load(x_p, mask=mask, other=0.0).to(tl.float32)
            h = beta * v + x
            theta = vth + b * a
            z = tl.where(h - theta >= 0.0, 1.0, 0.0)
            tl.store(z_p, z.to(z_ptr.dtype.element_ty), mask=mask)
            v = _reset_v(h, z, theta, v_reset, RESET)
            a = rho * a + omr * z
            if SAVE:
                tl.store(h_p, h, mask=mask)
                tl.store(a_p, a, mask=mask)
            x_p += M
            z_p += M
            h_p += M
            a_p += M
        tl.store(vT_ptr + offs, v.to(vT_ptr.dtype.element_ty), mask=mask)
        tl.store(aT_ptr + offs, a.to(aT_ptr.dtype.element_ty), mask=mask)

    @triton.jit
    def _alif_bwd_kernel(
        gz_ptr,
        gvT_ptr,
        gaT_ptr,
        h_ptr,
        a_ptr,
        v0_ptr,
        a0_ptr,
        beta_ptr,
        rho_ptr,
        omr_ptr,
        vth_ptr,
        b_ptr,
        gx_ptr,
        gv0_ptr,
        ga0_ptr,
        gbeta_ptr,
        grho_ptr,
        gomr_ptr,
        gvth_ptr,
        gb_ptr,
        T,
        M,
        last,
        v_reset,
        alpha,
        c,
        RESET: tl.constexpr,
        DETACH: tl.constexpr,
        KIND: tl.constexpr,
        HAS_GZ: tl.constexpr,
        HAS_GV: tl.constexpr,
        HAS_GA: tl.constexpr,
        BLOCK: tl.constexpr,
    ):
        offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        mask = offs < M
        beta = tl.load(beta_ptr + offs, mask=mask, other=0.0)
        rho = tl.load(rho_ptr + offs, mask=mask, other=0.0)
        omr = tl.load(omr_ptr + offs, mask=mask, other=0.0)
        vth = tl.load(vth_ptr + offs, mask=mask, other=0.0)
        b = tl.load(b_ptr + offs, mask=mask, other=0.0)
        v0 = tl.load(v0_ptr + offs, mask=mask, other=0.0).to(tl.float32)
        a0 = tl.load(a0_ptr + offs, mask=mask, other=0.0).to(tl.float32)
        if HAS_GV:
            gv = tl.load(gvT_ptr + offs, mask=mask, other=0.0).to(tl.float32)
        else:
            gv = tl.full([BLOCK], 0.0, tl.float32)
        if HAS_GA:
            ga = tl.load(gaT_ptr + offs, mask=mask, other=0.0).to(tl.float32)
        else:
            ga = tl.full([BLOCK], 0.0, tl.float32)
        gbeta = tl.full([BLOCK], 0.0, tl.float32)
        grho = tl.full([BLOCK], 0.0, tl.float32)
        gomr = tl.full([BLOCK], 0.0, tl.float32)
        gvth = tl.full([BLOCK], 0.0, tl.float32)
        gb = tl.full([BLOCK], 0.0, tl.float32)
        h_p = h_ptr + last + offs
        a_p = a_ptr + last + offs  # a_t; a_{t-1} is one row up, a_{t-2} two
        gz_p = gz_ptr + last + offs
        gx_p = gx_ptr + last + offs
        h = tl.load(h_p, mask=mask, other=0.0)
        two = tl.full([BLOCK], T, tl.int32) > 1
        a_prev = tl.where(two, tl.load(a_p - M, mask=mask & two, other=0.0), a0)
        for k in range(T):
            t = T - 1 - k
            # step t-1, recomputed: a_{t-2} -> theta_{t-1}, z_{t-1}, v_{t-1}
            t_block = tl.full([BLOCK], t, tl.int32)
            prev, pprev = t_block > 0, t_block > 1
            a_pp = tl.where(pprev, tl.load(a_p - M - M, mask=mask & pprev, other=0.0), a0)
            h_prev = tl.load(h_p - M, mask=mask & prev, other=0.0)
            th_prev = vth + b * a_pp
            z_prev = tl.where(h_prev - th_prev >= 0.0, 1.0, 0.0)
            v_prev = tl.where(prev, _reset_v(h_prev, z_prev, th_prev, v_reset, RESET), v0)
            # step t
            theta = vth + b * a_prev
            u = h - theta
            z = tl.where(u >= 0.0, 1.0, 0.0)
            if HAS_GZ:
                gz = tl.load(gz_p, mask=mask, other=0.0).to(tl.float32)
            else:
                gz = tl.full([BLOCK], 0.0, tl.float32)
            # a_t = rho a_{t-1} + (1 - rho) z_t
            gz = gz + omr * ga
            grho += ga * a_prev
            gomr += ga * z
            if RESET == 0:
                gh_v = gv
                gth_v = -gv * z
                if not DETACH:
                    gz = gz - gv * theta
            elif RESET == 1:
                gh_v = gv * (1.0 - z)
                gth_v = tl.full([BLOCK], 0.0, tl.float32)
                if not DETACH:
                    gz = gz + gv * (v_reset - h)
            else:
                gh_v = gv
                gth_v = tl.full([BLOCK], 0.0, tl.float32)
            gu = gz * _spike_grad(u, alpha, c, KIND)
            gh = gu + gh_v
            gth = gth_v - gu  # dL/dtheta_t, theta_t = v_th + b a_{t-1}
            gvth += gth
            gb += gth * a_prev
            ga = rho * ga + b * gth
            gbeta += gh * v_prev
            tl.store(gx_p, gh.to(gx_ptr.dtype.element_ty), mask=mask)
            gv = beta * gh
            h = h_prev
            a_prev = a_pp
            h_p -= M
            a_p -= M
            gz_p -= M
            gx_p -= M
        tl.store(gv0_ptr + offs, gv.to(gv0_ptr.dtype.element_ty), mask=mask)
        tl.store(ga0_ptr + offs, ga.to(ga0_ptr.dtype.element_ty), mask=mask)
        tl.store(gbeta_ptr + offs, gbeta, mask=mask)
        tl.store(grho_ptr + offs, grho, mask=mask)
        tl.store(gomr_ptr + offs, gomr, mask=mask)
        tl.store(gvth_ptr + offs, gvth, mask=mask)
        tl.store(gb_ptr + offs, gb, mask=mask)


_spike_grad = _reset_v = None
_lif_fwd_kernel = _lif_bwd_kernel = _cuba_fwd_kernel = _cuba_bwd_kernel = None
_alif_fwd_kernel = _alif_bwd_kernel = None


def _launch(kernel: Any, x: Tensor, M: int, *args: Any, **constexprs: Any) -> None:
    """Run ``kernel`` over ``ceil(M / BLOCK)`` programs on the device of ``x``."""
    if not x.is_cuda and not _interpreting():
        raise RuntimeError(
            f"the Triton kernels run on CUDA tensors, got a tensor on {x.device}; move the"
            " inputs to the GPU, use backend='cpu', or set TRITON_INTERPRET=1 to interpret them."
        )
    _kernels()
    kernel = globals()[kernel]
    grid = (triton.cdiv(M, BLOCK),)
    guard = torch.cuda.device(x.device) if x.is_cuda else contextlib.nullcontext()
    with guard:
        # no fused multiply-add, so the forward rounds exactly as the eager reference does
        kernel[grid](*args, **constexprs, BLOCK=BLOCK, num_warps=NUM_WARPS, enable_fp_fusion=False)


def _f32_empty(like: Tensor, *shape: int) -> Tensor:
    return torch.empty(shape, dtype=torch.float32, device=like.device)


# ---------------------------------------------------------------------------------------------
# Custom ops: x [T, M], state [M] in the compute dtype, parameters [M] float32
# ---------------------------------------------------------------------------------------------

_custom_op = getattr(torch.library, "custom_op", None)


def _op(name: str):
    """``torch.library.custom_op`` (torch >= 2.4; before that the backend is unavailable)."""
    if _custom_op is None:
        return lambda fn: fn
    return _custom_op(f"dendrix_triton::{name}", mutates_args=())


def _register(op: Any, fake: Any, backward: Any = None, setup_context: Any = None) -> None:
    if _custom_op is None:
        return
    op.register_fake(fake)
    if backward is not None:
        op.register_autograd(backward, setup_context=setup_context)


def _contig(*ts: Tensor) -> list[Tensor]:
    return [t.contiguous() for t in ts]


# ------------------------------------------------------------------------------- LIF ops
@_op("lif_fwd")
def _lif_fwd(
    x: Tensor,
    v0: Tensor,
    beta: Tensor,
    v_th: Tensor,
    v_reset: float,
    reset: int,
    detach: bool,
    kind: int,
    alpha: float,
    c: float,
    save: bool,
) -> tuple[Tensor, Tensor, Tensor]:
    T, M = x.shape
    x, v0, beta, v_th = _contig(x, v0, beta, v_th)
    z = torch.empty_like(x)
    h = _f32_empty(x, T, M) if save else _f32_empty(x, 0)
    if T == 0:
        return z, v0.clone(), h
    vT = torch.empty_like(v0)
    if M:
        _launch(
            "_lif_fwd_kernel",
            x,
            M,
            x,
            v0,
            beta,
            v_th,
            z,
            vT,
            h if save else z,
            T,
            M,
            v_reset,
            RESET=reset,
            SAVE=save,
        )
    return z, vT, h


def _lif_fwd_fake(x, v0, beta, v_th, v_reset, reset, detach, kind, alpha, c, save):
    h = x.new_empty(tuple(x.shape) if save else (0,), dtype=torch.float32)
    return torch.empty_like(x), torch.empty_like(v0), h


@_op("lif_bwd")
def _lif_bwd(
    gz: Tensor | None,
    gvT: Tensor | None,
    h: Tensor,
    v0: Tensor,
    beta: Tensor,
    v_th: Tensor,
    v_reset: float,
    reset: int,
    detach: bool,
    kind: int,
    alpha: float,
    c: float,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    T, M = h.shape
    h, v0, beta, v_th = _contig(h, v0, beta, v_th)
    gx = torch.empty((T, M), dtype=v0.dtype, device=v0.device)
    gv0, gbeta, gvth = torch.empty_like(v0), torch.empty_like(beta), torch.empty_like(v_th)
    if T * M:
        gz = gz.contiguous() if gz is not None else None
        gvT = gvT.contiguous() if gvT is not None else None
        _launch(
            "_lif_bwd_kernel",
            h,
            M,
            h if gz is None else gz,
            v0 if gvT is None else gvT,
            h,
            v0,
            beta,
            v_th,
            gx,
            gv0,
            gbeta,
            gvth,
            T,
            M,
            (T - 1) * M,
            v_reset,
            alpha,
            c,
            RESET=reset,
            DETACH=detach,
            KIND=kind,
            HAS_GZ=gz is not None,
            HAS_GV=gvT is not None,
        )
    else:
        gv0 = gvT.clone() if gvT is not None else torch.zeros_like(v0)
        gbeta.zero_()
        gvth.zero_()
    return gx, gv0, gbeta, gvth


def _lif_bwd_fake(gz, gvT, h, v0, beta, v_th, v_reset, reset, detach, kind, alpha, c):
    gx = torch.empty(tuple(h.shape), dtype=v0.dtype, device=v0.device)
    return gx, torch.empty_like(v0), torch.empty_like(beta), torch.empty_like(v_th)


def _lif_setup(ctx, inputs, output) -> None:
    h = output[2]
    ctx.mark_non_differentiable(h)
    ctx.set_materialize_grads(False)  # an unused output's gradient arrives as None
    ctx.save_for_backward(h, *inputs[1:4])  # h, v0, beta, v_th
    ctx.args = inputs[4:10]  # v_reset, reset, detach, kind, alpha, c


def _lif_backward(ctx, gz, gvT, _gh):
    if gz is None and gvT is None:
        return (None,) * 11
    h, v0, beta, v_th = ctx.saved_tensors
    gx, gv0, gbeta, gvth = _lif_bwd(gz, gvT, h, v0, beta, v_th, *ctx.args)
    return (gx, gv0, gbeta, gvth) + (None,) * 7


_register(_lif_fwd, _lif_fwd_fake, _lif_backward, _lif_setup)
_register(_lif_bwd, _lif_bwd_fake)


# ------------------------------------------------------------------------------- CuBa-LIF ops
@_op("cuba_lif_fwd")
def _cuba_fwd(
    x: Tensor,
    v0: Tensor,
    i0: Tensor,
    syn: Tensor,
    beta: Tensor,
    v_th: Tensor,
    v_reset: float,
    reset: int,
    detach: bool,
    kind: int,
    alpha: float,
    c: float,
    save: bool,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    T, M = x.shape
    x, v0, i0, syn, beta, v_th = _contig(x, v0, i0, syn, beta, v_th)
    z = torch.empty_like(x)
    h = _f32_empty(x, T, M) if save else _f32_empty(x, 0)
    cur = _f32_empty(x, T, M) if save else _f32_empty(x, 0)
    if T == 0:
        return z, v0.clone(), i0.clone(), h, cur
    vT, iT = torch.empty_like(v0), torch.empty_like(i0)
    if M:
        _launch(
            "_cuba_fwd_kernel",
            x,
            M,
            x,
            v0,
            i0,
            syn,
            beta,
            v_th,
            z,
            vT,
            iT,
            h if save else z,
            cur if save else z,
            T,
            M,
            v_reset,
            RESET=reset,
            SAVE=save,
        )
    return z, vT, iT, h, cur


def _cuba_fwd_fake(x, v0, i0, syn, beta, v_th, v_reset, reset, detach, kind, alpha, c, save):
    shape = tuple(x.shape) if save else (0,)
    return (
        torch.empty_like(x),
        torch.empty_like(v0),
        torch.empty_like(i0),
        x.new_empty(shape, dtype=torch.float32),
        x.new_empty(shape, dtype=torch.float32),
    )


@_op("cuba_lif_bwd")
def _cuba_bwd(
    gz: Tensor | None,
    gvT: Tensor | None,
    giT: Tensor | None,
    h: Tensor,
    cur: Tensor,
    v0: Tensor,
    i0: Tensor,
    syn: Tensor,
    beta: Tensor,
    v_th: Tensor,
    v_reset: float,
    reset: int,
    detach: bool,
    kind: int,
    alpha: float,
    c: float,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
    T, M = h.shape
    h, cur, v0, i0, syn, beta, v_th = _contig(h, cur, v0, i0, syn, beta, v_th)
    gx = torch.empty((T, M), dtype=v0.dtype, device=v0.device)
    gv0, gi0 = torch.empty_like(v0), torch.empty_like(i0)
    gsyn, gbeta, gvth = torch.empty_like(syn), torch.empty_like(beta), torch.empty_like(v_th)
    if T * M:
        gz, gvT, giT = (None if g is None else g.contiguous() for g in (gz, gvT, giT))
        _launch(
            "_cuba_bwd_kernel",
            h,
            M,
            h if gz is None else gz,
            v0 if gvT is None else gvT,
            i0 if giT is None else giT,
            h,
            cur,
            v0,
            i0,
            syn,
            beta,
            v_th,
            gx,
            gv0,
            gi0,
            gsyn,
            gbeta,
            gvth,
            T,
            M,
            (T - 1) * M,
            v_reset,
            alpha,
            c,
            RESET=reset,
            DETACH=detach,
            KIND=kind,
            HAS_GZ=gz is not None,
            HAS_GV=gvT is not None,
            HAS_GI=giT is not None,
        )
    else:
        gv0 = gvT.clone() if gvT is not None else torch.zeros_like(v0)
        gi0 = giT.clone() if giT is not None else torch.zeros_like(i0)
        for g in (gsyn, gbeta, gvth):
            g.zero_()
    return gx, gv0, gi0, gsyn, gbeta, gvth


def _cuba_bwd_fake(gz, gvT, giT, h, cur, v0, i0, syn, beta, v_th, *args):
    gx = torch.empty(tuple(h.shape), dtype=v0.dtype, device=v0.device)
    return (
        gx,
        torch.empty_like(v0),
        torch.empty_like(i0),
        torch.empty_like(syn),
        torch.empty_like(beta),
        torch.empty_like(v_th),
    )


def _cuba_setup(ctx, inputs, output) -> None:
    h, cur = output[3:]
    ctx.mark_non_differentiable(h, cur)
    ctx.set_materialize_grads(False)
    ctx.save_for_backward(h, cur, *inputs[1:6])  # h, i, v0, i0, syn, beta, v_th
    ctx.args = inputs[6:12]


def _cuba_backward(ctx, gz, gvT, giT, _gh, _gi):
    if gz is None and gvT is None and giT is None:
        return (None,) * 13
    grads = _cuba_bwd(gz, gvT, giT, *ctx.saved_tensors, *ctx.args)
    return tuple(grads) + (None,) * 7


_register(_cuba_fwd, _cuba_fwd_fake, _cuba_backward, _cuba_setup)
_register(_cuba_bwd, _cuba_bwd_fake)


# ------------------------------------------------------------------------------- ALIF ops
@_op("alif_fwd")
def _alif_fwd(
    x: Tensor,
    v0: Tensor,
    a0: Tensor,
    beta: Tensor,
    rho: Tensor,
    omr: Tensor,
    v_th: Tensor,
    b: Tensor,
    v_reset: float,
    reset: int,
    detach: bool,
    kind: int,
    alpha: float,
    c: float,
    save: bool,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    T, M = x.shape
    x, v0, a0, beta, rho, omr, v_th, b = _contig(x, v0, a0, beta, rho, omr, v_th, b)
    z = torch.empty_like(x)
    h = _f32_empty(x, T, M) if save else _f32_empty(x, 0)
    a = _f32_empty(x, T, M) if save else _f32_empty(x, 0)
    if T == 0:
        return z, v0.clone(), a0.clone(), h, a
    vT, aT = torch.empty_like(v0), torch.empty_like(a0)
    if M:
        _launch(
            "_alif_fwd_kernel",
            x,
            M,
            x,
            v0,
            a0,
            beta,
            rho,
            omr,
            v_th,
            b,
            z,
            vT,
            aT,
            h if save else z,
            a if save else z,
            T,
            M,
            v_reset,
            RESET=reset,
            SAVE=save,
        )
    return z, vT, aT, h, a


def _alif_fwd_fake(
    x, v0, a0, beta, rho, omr, v_th, b, v_reset, reset, detach, kind, alpha, c, save
):
    shape = tuple(x.shape) if save else (0,)
    return (
        torch.empty_like(x),
        torch.empty_like(v0),
        torch.empty_like(a0),
        x.new_empty(shape, dtype=torch.float32),
        x.new_empty(shape, dtype=torch.float32),
    )


@_op("alif_bwd")
def _alif_bwd(
    gz: Tensor | None,
    gvT: Tensor | None,
    gaT: Tensor | None,
    h: Tensor,
    a: Tensor,
    v0: Tensor,
    a0: Tensor,
    beta: Tensor,
    rho: Tensor,
    omr: Tensor,
    v_th: Tensor,
    b: Tensor,
    v_reset: float,
    reset: int,
    detach: bool,
    kind: int,
    alpha: float,
    c: float,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
    T, M = h.shape
    h, a, v0, a0, beta, rho, omr, v_th, b = _contig(h, a, v0, a0, beta, rho, omr, v_th, b)
    gx = torch.empty((T, M), dtype=v0.dtype, device=v0.device)
    gv0, ga0 = torch.empty_like(v0), torch.empty_like(a0)
    gparams = [torch.empty_like(t) for t in (beta, rho, omr, v_th, b)]
    if T * M:
        gz, gvT, gaT = (None if g is None else g.contiguous() for g in (gz, gvT, gaT))
        _launch(
            "_alif_bwd_kernel",
            h,
            M,
            h if gz is None else gz,
            v0 if gvT is None else gvT,
            a0 if gaT is None else gaT,
            h,
            a,
            v0,
            a0,
            beta,
            rho,
            omr,
            v_th,
            b,
            gx,
            gv0,
            ga0,
            *gparams,
            T,
            M,
            (T - 1) * M,
            v_reset,
            alpha,
            c,
            RESET=reset,
            DETACH=detach,
            KIND=kind,
            HAS_GZ=gz is not None,
            HAS_GV=gvT is not None,
            HAS_GA=gaT is not None,
        )
    else:
        gv0 = gvT.clone() if gvT is not None else torch.zeros_like(v0)
        ga0 = gaT.clone() if gaT is not None else torch.zeros_like(a0)
        for g in gparams:
            g.zero_()
    return (gx, gv0, ga0, *gparams)


def _alif_bwd_fake(gz, gvT, gaT, h, a, v0, a0, beta, rho, omr, v_th, b, *args):
    gx = torch.empty(tuple(h.shape), dtype=v0.dtype, device=v0.device)
    return (
        gx,
        torch.empty_like(v0),
        torch.empty_like(a0),
        *(torch.empty_like(t) for t in (beta, rho, omr, v_th, b)),
    )


def _alif_setup(ctx, inputs, output) -> None:
    h, a = output[3:]
    ctx.mark_non_differentiable(h, a)
    ctx.set_materialize_grads(False)
    ctx.save_for_backward(h, a, *inputs[1:8])  # h, a, v0, a0, beta, rho, omr, v_th, b
    ctx.args = inputs[8:14]


def _alif_backward(ctx, gz, gvT, gaT, _gh, _ga):
    if gz is None and gvT is None and gaT is None:
        return (None,) * 15
    grads = _alif_bwd(gz, gvT, gaT, *ctx.saved_tensors, *ctx.args)
    return tuple(grads) + (None,) * 7


_register(_alif_fwd, _alif_fwd_fake, _alif_backward, _alif_setup)
_register(_alif_bwd, _alif_bwd_fake)


# ---------------------------------------------------------------------------------------------
# Public entry points: same signature and result as scan(step, x, state, p, dt)
# ---------------------------------------------------------------------------------------------


def _compute_dtype(x: Tensor, *values: Tensor | float) -> torch.dtype:
    """The dtype the reference step computes in (0-dim tensors do not promote, as in torch)."""
    if not x.is_floating_point():
        raise TypeError(f"x must be a floating tensor, got {x.dtype}.")
    dtype = x.dtype
    for v in values:
        if isinstance(v, Tensor) and v.dim() > 0:
            dtype = torch.promote_types(dtype, v.dtype)
    if dtype not in _DTYPES:
        raise TypeError(
            f"the Triton kernels compute in float32 and accept float32/float16/bfloat16, got"
            f" {dtype}; use backend='reference' or 'cpu' for {dtype}."
        )
    return dtype


def _per_neuron(value: Tensor | float, feat: torch.Size, M: int, like: Tensor) -> Tensor:
    """A float or a tensor broadcastable to ``feat``, as a float32 ``[M]`` tensor."""
    if isinstance(value, Tensor):
        try:
            expanded = torch.broadcast_to(value.to(like.device, torch.float32), feat)
        except RuntimeError as exc:
            raise ValueError(
                f"a parameter of shape {tuple(value.shape)} must broadcast to the feature shape"
                f" {tuple(feat)} of one input step."
            ) from exc
        return expanded.reshape(M)
    return torch.full((M,), float(value), dtype=torch.float32, device=like.device)


def _state(value: Tensor, feat: torch.Size, M: int, dtype: torch.dtype) -> Tensor:
    return torch.broadcast_to(value.to(dtype), feat).reshape(M)


def _surrogate_args(spike: Surrogate) -> tuple[int, float, float]:
    """``(kind, alpha, c)``: ``c`` is the constant the kernel compares or scales ``u`` by."""
    kind, alpha = int(spike.kind), float(spike.alpha)
    if kind not in range(5):
        raise ValueError(
            f"the Triton kernels know surrogate kinds 0..4; {type(spike).__name__} has kind"
            f" {kind}. Use backend='reference' for a custom surrogate."
        )
    c = math.pi / 2.0 * alpha if kind == 1 else 0.5 / alpha if kind == 4 else 0.0
    return kind, alpha, c


def _reset_code(reset: str) -> int:
    if reset not in _RESET_CODE:
        raise ValueError(f"reset must be one of {RESETS}; got {reset!r}.")
    return _RESET_CODE[reset]


def _check_x(x: Tensor) -> tuple[int, torch.Size, int]:
    if x.dim() < 2:
        raise ValueError(f"x must be [T, B, ...] (time first), got shape {tuple(x.shape)}.")
    feat = x.shape[1:]
    return x.shape[0], feat, math.prod(feat)


def _needs_grad(*ts: Tensor) -> bool:
    return torch.is_grad_enabled() and any(t.requires_grad for t in ts)


def lif_multistep_triton(
    x: Tensor, state: LIFState, p: LIFParameters, dt: float
) -> tuple[Tensor, LIFState]:
    """LIF over ``T`` steps in one kernel; equals ``scan(lif_step, x, state, p, dt)``.

    Args:
        x: input currents ``[T, B, ...]`` (CUDA, or CPU under ``TRITON_INTERPRET=1``).
        state: :class:`~dendrix.spiking.functional.lif.LIFState`, each ``[B, ...]``.
        p: :class:`~dendrix.spiking.functional.lif.LIFParameters`; ``t_ref`` must be 0.
        dt: time step in seconds.

    Returns:
        ``(z, state)``: spikes ``[T, B, ...]`` and the state after the last step.
    """
    if p.t_ref > 0 and refractory_steps(p.t_ref, dt) > 0:
        raise ValueError(
            "the Triton LIF kernel has no refractory period; use backend='reference' or 'cpu'"
            " for t_ref > 0."
        )
    T, feat, M = _check_x(x)
    beta = decay_unchecked(p.tau_mem, dt)
    dtype = _compute_dtype(x, state.v, beta, p.v_th)
    kind, alpha, c = _surrogate_args(p.surrogate)
    xs = x.to(dtype).reshape(T, M)
    v0 = _state(state.v, feat, M, dtype)
    beta_m, vth_m = _per_neuron(beta, feat, M, x), _per_neuron(p.v_th, feat, M, x)
    save = _needs_grad(xs, v0, beta_m, vth_m)
    z, vT, _h = _lif_fwd(
        xs,
        v0,
        beta_m,
        vth_m,
        float(p.v_reset),
        _reset_code(p.reset),
        bool(p.detach_reset),
        kind,
        alpha,
        c,
        save,
    )
    return z.reshape(x.shape), LIFState(v=vT.reshape(feat), r=state.r)


def cuba_lif_multistep_triton(
    x: Tensor, state: CubaLIFState, p: CubaLIFParameters, dt: float
) -> tuple[Tensor, CubaLIFState]:
    """Current-based LIF over ``T`` steps in one kernel; equals ``scan(cuba_lif_step, ...)``.

    Args:
        x: input charges ``[T, B, ...]``.
        state: :class:`~dendrix.spiking.functional.cuba_lif.CubaLIFState`, each ``[B, ...]``.
        p: :class:`~dendrix.spiking.functional.cuba_lif.CubaLIFParameters`.
        dt: time step in seconds.

    Returns:
        ``(z, state)``: spikes ``[T, B, ...]`` and the state after the last step.
    """
    T, feat, M = _check_x(x)
    syn = decay_unchecked(p.tau_syn, dt)
    beta = decay_unchecked(p.tau_mem, dt)
    dtype = _compute_dtype(x, state.v, state.i, syn, beta, p.v_th)
    kind, alpha, c = _surrogate_args(p.surrogate)
    xs = x.to(dtype).reshape(T, M)
    v0, i0 = _state(state.v, feat, M, dtype), _state(state.i, feat, M, dtype)
    syn_m, beta_m = _per_neuron(syn, feat, M, x), _per_neuron(beta, feat, M, x)
    vth_m = _per_neuron(p.v_th, feat, M, x)
    save = _needs_grad(xs, v0, i0, syn_m, beta_m, vth_m)
    z, vT, iT, _h, _i = _cuba_fwd(
        xs,
        v0,
        i0,
        syn_m,
        beta_m,
        vth_m,
        float(p.v_reset),
        _reset_code(p.reset),
        bool(p.detach_reset),
        kind,
        alpha,
        c,
        save,
    )
    return z.reshape(x.shape), CubaLIFState(v=vT.reshape(feat), i=iT.reshape(feat))


def alif_multistep_triton(
    x: Tensor, state: ALIFState, p: ALIFParameters, dt: float
) -> tuple[Tensor, ALIFState]:
    """Adaptive LIF over ``T`` steps in one kernel; equals ``scan(alif_step, ...)``.

    Args:
        x: input currents ``[T, B, ...]``.
        state: :class:`~dendrix.spiking.functional.alif.ALIFState`, each ``[B, ...]``.
        p: :class:`~dendrix.spiking.functional.alif.ALIFParameters`.
        dt: time step in seconds.

    Returns:
        ``(z, state)``: spikes ``[T, B, ...]`` and the state after the last step.
    """
    T, feat, M = _check_x(x)
    beta = decay_unchecked(p.tau_mem, dt)
    rho = decay_unchecked(p.tau_adapt, dt)
    omr = 1.0 - rho  # rounded as the reference rounds (1 - rho) z
    dtype = _compute_dtype(x, state.v, state.a, beta, rho, p.v_th, p.beta_adapt)
    kind, alpha, c = _surrogate_args(p.surrogate)
    xs = x.to(dtype).reshape(T, M)
    v0, a0 = _state(state.v, feat, M, dtype), _state(state.a, feat, M, dtype)
    params = [_per_neuron(q, feat, M, x) for q in (beta, rho, omr, p.v_th, p.beta_adapt)]
    save = _needs_grad(xs, v0, a0, *params)
    z, vT, aT, _h, _a = _alif_fwd(
        xs,
        v0,
        a0,
        *params,
        float(p.v_reset),
        _reset_code(p.reset),
        bool(p.detach_reset),
        kind,
        alpha,
        c,
        save,
    )
    return z.reshape(x.shape), ALIFState(v=vT.reshape(feat), a=aT.reshape(feat))
