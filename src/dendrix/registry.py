"""Named registries: recipes, and the layers that contract test suites check.

A :class:`Registry` maps unique names to entries. The recipe registry drives
``dendrix reproduce``; :data:`LAYERS` drives the layer contract suite in
``tests/contracts`` — every layer registered there gets the same checks (shapes and dtypes
kept, no NaN, gradients reach the input and every parameter, state-dict round trip into a
fresh instance, eager equals ``torch.compile``-traced). Later families (neurons, plasticity
rules) add registries of their own the same way.

Example:
    >>> from dendrix.registry import Registry
    >>> animals = Registry("animal")
    >>> @animals.register("cat")
    ... def make_cat():
    ...     return "meow"
    >>> animals["cat"]()
    'meow'
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import torch

__all__ = ["LAYERS", "NEURONS", "LayerSpec", "NeuronSpec", "Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """A mapping from unique names to entries of one kind."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def add(self, name: str, entry: T) -> T:
        """Register ``entry`` under ``name``; a name can be taken only once."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"{self.kind} name must be a non-empty string, got {name!r}.")
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is already registered; names are unique.")
        self._entries[name] = entry
        return entry

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator form of :meth:`add`."""

        def decorate(entry: T) -> T:
            return self.add(name, entry)

        return decorate

    def __getitem__(self, name: str) -> T:
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(sorted(self._entries)) or "none"
            raise KeyError(f"unknown {self.kind} {name!r}; registered: {known}.") from None

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> list[str]:
        return sorted(self._entries)

    def items(self) -> list[tuple[str, T]]:
        return [(name, self._entries[name]) for name in self.names()]


@dataclass(frozen=True)
class LayerSpec:
    """How the layer contract suite builds and feeds one layer.

    Attributes:
        build: returns a fresh module (called once per check, so instances are independent).
        example_input: ``generator -> tensor`` producing a representative input batch.
        differentiable: whether gradients must reach the input (False for layers whose output
            is piecewise constant in the input).
        keeps_shape: whether the output has the input's shape (activations, neurons).
        train_steps: forward passes in training mode before state checks, to move buffers
            (duty cycles, running statistics) away from their initial values.
    """

    build: Callable[[], torch.nn.Module]
    example_input: Callable[[torch.Generator], torch.Tensor]
    differentiable: bool = True
    keeps_shape: bool = True
    train_steps: int = 3
    tags: tuple[str, ...] = field(default_factory=tuple)


#: Layers checked by ``tests/contracts/test_layer_contract.py``.
LAYERS: Registry[LayerSpec] = Registry("layer")


@dataclass(frozen=True)
class NeuronSpec:
    """How the neuron contract suite builds and feeds one spiking neuron module.

    Attributes:
        build: returns a fresh module with every constant learnable where the family allows,
            so the suite can check that gradients reach each of them.
        example_input: ``generator -> [T, B, ...]`` input sequence that makes neurons spike.
        stochastic: the module draws spikes from its own generator (reseeded by the suite
            through ``manual_seed`` before runs that must agree).
    """

    build: Callable[[], torch.nn.Module]
    example_input: Callable[[torch.Generator], torch.Tensor]
    stochastic: bool = False


#: Neuron modules checked by ``tests/contracts/test_neuron_contract.py``.
NEURONS: Registry[NeuronSpec] = Registry("neuron")
