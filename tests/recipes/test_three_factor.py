"""Recipe ``three-factor``: the reward switch and reward-modulated learning."""

from __future__ import annotations

import pytest
import torch

from dendrix.recipes.three_factor import ThreeFactorConfig, reward_for, simulate


def test_reward_contingency_reverses_at_the_configured_trial():
    for k in range(4):
        assert reward_for(k, k % 2, trial=9, switch_trial=10) == 1.0
        assert reward_for(k, 1 - k % 2, trial=9, switch_trial=10) == 0.0
        assert reward_for(k, k % 2, trial=10, switch_trial=10) == 0.0
        assert reward_for(k, 1 - k % 2, trial=10, switch_trial=10) == 1.0


def test_simulated_rewards_follow_the_switch():
    config = ThreeFactorConfig(trials=20, switch_trial=7, trial_steps=10)
    out = simulate(config)
    target = out["pattern"] % 2
    target[config.switch_trial :] = 1 - target[config.switch_trial :]
    assert torch.equal(out["reward"], (out["action"] == target).float())


def test_reward_modulated_stdp_learns_the_rewarded_actions():
    config = ThreeFactorConfig(trials=160, switch_trial=159)
    out = simulate(config)
    early, late = float(out["reward"][:20].mean()), float(out["reward"][110:159].mean())
    assert late >= 0.8
    assert late >= early + 0.2  # learned, not there from the start
    assert ((out["weight"] >= 0) & (out["weight"] <= config.w_max)).all()


def test_switch_outside_the_run_is_refused():
    with pytest.raises(ValueError, match="switch_trial"):
        simulate(ThreeFactorConfig(trials=10, switch_trial=10))
