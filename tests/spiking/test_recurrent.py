"""Recurrent populations: the previous step's spikes reach the input through W_rec."""

from __future__ import annotations

import pytest
import torch

from dendrix.spiking import LIF, Recurrent, RecurrentLIF


def test_a_spike_reaches_its_target_one_step_later_through_the_recurrent_weight():
    rnn = RecurrentLIF(3, return_state=False)
    with torch.no_grad():
        rnn.weight.zero_()
        rnn.weight[1, 0] = 2.0  # neuron 0 -> neuron 1
    x = torch.zeros(4, 1, 3)
    x[0, 0, 0] = 1.5
    z = rnn(x)
    assert z[:, 0, 0].tolist() == [1.0, 0.0, 0.0, 0.0]
    assert z[:, 0, 1].tolist() == [0.0, 1.0, 0.0, 0.0]
    assert z[:, 0, 2].sum() == 0


def test_self_connections_are_masked_unless_asked_for():
    rnn = RecurrentLIF(3, return_state=False)
    with torch.no_grad():
        rnn.weight.fill_(5.0)
    x = torch.zeros(3, 1, 3)
    x[0, 0, 0] = 1.5
    z = rnn(x)
    assert z[1, 0, 0] == 0 and z[1, 0, 1] == 1 and z[1, 0, 2] == 1


def test_wrong_feature_size_and_non_neuron_are_refused():
    rnn = Recurrent(LIF(4), 4)
    with pytest.raises(ValueError, match="x"):
        rnn(torch.zeros(5, 2, 3))
    with pytest.raises(TypeError, match="neuron"):
        Recurrent(torch.nn.ReLU(), 4)
