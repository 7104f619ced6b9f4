"""Pure step functions ``step(x, state, params, dt) -> (z, state)``, one file per family.

Units and the time-first convention are documented once in
:mod:`dendrix.spiking.functional.base`.
"""
