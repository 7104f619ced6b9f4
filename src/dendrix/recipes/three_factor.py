r"""Recipe ``three-factor``: reward-modulated STDP learns which action each input pattern earns,
and re-learns it when the reward contingency reverses midway.

**Task (a two-armed contextual bandit with reversal).** ``n_patterns`` input patterns, each a
group of ``inputs_per_pattern`` dedicated input neurons firing Poisson spikes at
``pattern_rate_hz`` (all other inputs at ``background_rate_hz``), drawn with a
``torch.Generator``. One trial shows one pattern (chosen at random) for ``trial_steps`` steps of
``dt``. Two action neurons (LIF, with lateral inhibition: each spike of one neuron subtracts
``inhibition`` from the other's input at the next step, and a Gaussian noise current gives
exploration) read the inputs through plastic weights; the action is the neuron that fired more
spikes (ties broken at random). The reward is 1 when the action is the one the current
contingency assigns to the pattern, 0 otherwise. In phase 1 pattern ``k`` is rewarded for action
``k % 2``; from trial ``switch_trial`` on the mapping is reversed (``1 - k % 2``).

Why this task: it is the smallest setting in which a three-factor rule must do what a two-factor
rule cannot. The STDP coincidences of a trial are the same whether the action was right or
wrong; only the reward, arriving at the end of the trial, tells them apart (the distal reward
problem of Izhikevich 2007). The reversal tests that the learner keeps adapting: once rewards
are predicted the modulator is ~0, and after the switch the reward prediction error turns
negative and undoes the old mapping.

**Learning.** :meth:`~dendrix.plasticity.ThreeFactor.reward_modulated_stdp` (pair STDP into an
eligibility trace, hard bounds ``[0, w_max]``) runs every step with modulator 0, and at the end
of each trial with the reward prediction error :math:`\delta = R - \bar R_k`
(:func:`~dendrix.plasticity.reward_prediction_error`, a running baseline per pattern, as in
Frémaux & Gerstner 2016, sec. 4) as the modulator; the eligibility is reset between trials.

**Metrics.** Reward rate (mean reward over the last ``window`` trials) at the end of phase 1,
over the first ``window`` trials after the switch, and at the end of phase 2; trials after the
switch until the windowed reward rate is back at ``recover_level``.

**Claims.** The issue asks for "adaptation after the switch"; there is no paper figure for this
task. The full config claims a reward rate >= 0.9 at the end of each phase (and a drop right
after the switch, which shows that the contingency did change); the quick config claims lower
floors ("quick-budget floor, not a paper figure").

References: Izhikevich EM (2007) Cereb Cortex 17:2443-2452; Florian RV (2007) Neural Comput
19:1468-1502; Frémaux N, Gerstner W (2016) Front Neural Circuits 9:85.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from matplotlib.figure import Figure
from torch import Tensor

from dendrix.plasticity import ThreeFactor, reward_prediction_error
from dendrix.recipes._training import torch_threads
from dendrix.recipes.base import Claim, Result, register_recipe
from dendrix.spiking import LIF

__all__ = ["ThreeFactorConfig", "reward_for", "run", "simulate"]

PAPER = (
    "Izhikevich EM (2007) Solving the distal reward problem through linkage of STDP and dopamine "
    "signaling. Cereb Cortex 17:2443-2452; Fremaux N, Gerstner W (2016) Front Neural Circuits 9:85"
)
QUICK_SOURCE = "quick-budget floor, not a paper figure"
FULL_SOURCE = "issue 5 acceptance: adaptation after the reward switch (not a paper number)"


@dataclass(frozen=True)
class ThreeFactorConfig:
    """Budget and constants of ``three-factor`` (times in seconds, rates in hertz).

    Attributes:
        seed: initial weights, Poisson spikes, noise, pattern order and tie breaks (one
            ``torch.Generator``).
        n_patterns: number of input patterns.
        inputs_per_pattern: input neurons per pattern.
        trials: total trials; ``switch_trial``: first trial of the reversed contingency.
        trial_steps, dt: trial length in steps of ``dt``.
        pattern_rate_hz, background_rate_hz: Poisson rates of active and other inputs.
        tau_mem, noise_std, inhibition: action neurons' membrane time constant, noise current
            (per step, threshold units) and lateral inhibition (threshold units per spike).
        w_init, w_max: initial mean weight and upper bound.
        a_plus, a_minus, tau_e, eta, baseline_alpha: R-STDP and reward-baseline constants.
        window: trials per reward-rate window; ``recover_level``: recovery criterion.
        claim_rate: claimed reward rate at the end of each phase.
        source: where the claimed figures come from.
    """

    seed: int = 0
    n_patterns: int = 4
    inputs_per_pattern: int = 10
    trials: int = 800
    switch_trial: int = 400
    trial_steps: int = 50
    dt: float = 1e-3
    pattern_rate_hz: float = 100.0
    background_rate_hz: float = 2.0
    tau_mem: float = 20e-3
    noise_std: float = 0.15
    inhibition: float = 3.0
    w_init: float = 0.3
    w_max: float = 1.0
    a_plus: float = 1.0
    a_minus: float = 0.5
    tau_e: float = 0.2
    eta: float = 0.02
    baseline_alpha: float = 0.1
    window: int = 50
    recover_level: float = 0.8
    claim_rate: float = 0.9
    source: str = FULL_SOURCE


def reward_for(pattern: int, action: int, trial: int, switch_trial: int) -> float:
    """Reward of ``action`` for ``pattern``: ``k % 2`` earns 1 before the switch, ``1 - k % 2``
    from ``switch_trial`` on."""
    target = pattern % 2 if trial < switch_trial else 1 - pattern % 2
    return 1.0 if action == target else 0.0


def simulate(config: ThreeFactorConfig) -> dict[str, Tensor]:
    """Run every trial; returns ``pattern``, ``action``, ``reward`` (``[trials]``) and the final
    ``weight`` ``[2, n_in]``."""
    c = config
    if not 0 < c.switch_trial < c.trials:
        raise ValueError(f"switch_trial={c.switch_trial} must lie inside (0, trials={c.trials}).")
    gen = torch.Generator().manual_seed(c.seed)
    n_in = c.n_patterns * c.inputs_per_pattern
    weight = (c.w_init * (0.9 + 0.2 * torch.rand(2, n_in, generator=gen))).clamp(0, c.w_max)
    rule = ThreeFactor.reward_modulated_stdp(
        a_plus=c.a_plus,
        a_minus=c.a_minus,
        tau_e=c.tau_e,
        eta=c.eta,
        dt=c.dt,
        bounds="hard",
        w_min=0.0,
        w_max=c.w_max,
    )
    neurons = LIF(2, tau_mem=c.tau_mem, dt=c.dt, return_state=False)
    baseline = torch.zeros(c.n_patterns)
    patterns = torch.randint(c.n_patterns, (c.trials,), generator=gen)
    actions = torch.zeros(c.trials, dtype=torch.long)
    rewards = torch.zeros(c.trials)
    swap = torch.tensor([1, 0])
    for trial in range(c.trials):
        k = int(patterns[trial])
        rates = torch.full((n_in,), c.background_rate_hz)
        rates[k * c.inputs_per_pattern : (k + 1) * c.inputs_per_pattern] = c.pattern_rate_hz
        spikes_in = (torch.rand(c.trial_steps, 1, n_in, generator=gen) < rates * c.dt).float()
        noise = c.noise_std * torch.randn(c.trial_steps, 1, 2, generator=gen)
        state, rule_state = None, rule.initial_state(weight, 1)
        z = torch.zeros(1, 2)
        counts = torch.zeros(2)
        for t in range(c.trial_steps):
            pre = spikes_in[t]
            current = pre @ weight.T + noise[t] - c.inhibition * z[:, swap]
            z, state = neurons.step(current, state)
            counts += z[0]
            _, rule_state = rule.update(pre, z, rule_state, weight, modulator=0.0)
        if counts[0] == counts[1]:
            action = int(torch.randint(2, (1,), generator=gen))
        else:
            action = int(counts.argmax())
        reward = reward_for(k, action, trial, c.switch_trial)
        delta, new_base = reward_prediction_error(
            reward, float(baseline[k]), alpha=c.baseline_alpha
        )
        baseline[k] = float(new_base)
        # the reward arrives one step after the trial: dw = eta * delta * eligibility
        silent_in, silent_out = torch.zeros(1, n_in), torch.zeros(1, 2)
        dw, _ = rule.update(silent_in, silent_out, rule_state, weight, modulator=float(delta))
        weight = weight + dw  # the hard bounds already clip dw into [0, w_max]
        actions[trial], rewards[trial] = action, reward
    return {"pattern": patterns, "action": actions, "reward": rewards, "weight": weight}


def _window_rate(rewards: Tensor, end: int, window: int) -> float:
    """Mean reward over trials ``[end - window, end)``."""
    return float(rewards[max(0, end - window) : end].mean())


def _trials_to_recover(rewards: Tensor, switch: int, window: int, level: float) -> int:
    """Trials after ``switch`` until the mean reward of the last ``window`` trials (all after the
    switch) first reaches ``level``; ``len - switch`` plus one if never."""
    after = rewards[switch:]
    for n in range(window, len(after) + 1):
        if float(after[n - window : n].mean()) >= level:
            return n
    return len(after) + 1


@register_recipe(
    "three-factor",
    config=ThreeFactorConfig(),
    quick=ThreeFactorConfig(
        trials=400,
        switch_trial=200,
        window=40,
        claim_rate=0.75,
        source=QUICK_SOURCE,
    ),
    title="Reward-modulated STDP on a two-action task with a reward reversal",
    paper=PAPER,
)
def run(config: ThreeFactorConfig) -> Result:
    c = config
    start = time.perf_counter()
    with torch_threads(1):  # tiny tensors: one thread is fastest
        out = simulate(c)
    rewards = out["reward"]
    end_1 = _window_rate(rewards, c.switch_trial, c.window)
    after = _window_rate(rewards, c.switch_trial + c.window, c.window)
    end_2 = _window_rate(rewards, c.trials, c.window)
    recover = _trials_to_recover(rewards, c.switch_trial, c.window, c.recover_level)
    metrics = {
        "reward_rate_end_phase1": end_1,
        "reward_rate_after_switch": after,
        "reward_rate_end_phase2": end_2,
        "drop_after_switch": end_1 - after,
        "trials_to_recover": float(recover),
        "switch_trial": float(c.switch_trial),
        "wall_time_s": time.perf_counter() - start,
    }
    claims = [
        Claim("reward_rate_end_phase1", c.claim_rate, end_1, "", c.source, "at_least", 0.0),
        Claim("reward_rate_end_phase2", c.claim_rate, end_2, "", c.source, "at_least", 0.0),
    ]

    fig = Figure(figsize=(7, 3.5))
    ax = fig.add_subplot()
    trials = torch.arange(c.trials)
    running = torch.tensor([_window_rate(rewards, int(t) + 1, c.window) for t in trials])
    ax.plot(trials.numpy(), running.numpy(), label=f"reward rate ({c.window}-trial window)")
    ax.axvline(c.switch_trial, color="red", ls="--", label="contingency reversed")
    ax.axhline(0.5, color="grey", ls=":", label="chance")
    ax.set_xlabel("trial")
    ax.set_ylabel("reward rate")
    ax.set_ylim(0, 1.05)
    ax.legend(loc="lower right")
    fig.tight_layout()
    notes = (
        f"{c.n_patterns} Poisson patterns, 2 LIF action neurons with lateral inhibition, "
        f"R-STDP with a per-pattern reward baseline; reversal at trial {c.switch_trial} of "
        f"{c.trials}. No paper figure: the claims are the issue's 'adaptation after the switch' "
        f"({c.source})."
    )
    return Result(metrics=metrics, claims=claims, figures={"reward_rate": fig}, notes=notes)
