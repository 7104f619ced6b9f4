"""Multi-step kernels of the spiking neurons: one readable reference, fused fast paths.

* :mod:`~dendrix.spiking.kernels.reference`: the families' step functions in a Python loop;
  what every fast path must equal in outputs and gradients.
* :mod:`~dendrix.spiking.kernels.cpu`: fused numba kernels, forward and backward.
* :mod:`~dendrix.spiking.kernels.triton`: fused GPU kernels.
* :mod:`~dendrix.spiking.kernels.dispatch`: the door (argument checks, backend choice); call
  ``lif_multistep`` / ``cuba_lif_multistep`` / ``alif_multistep`` from there.
"""
