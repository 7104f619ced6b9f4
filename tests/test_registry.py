"""The generic registry behind recipes and contract suites."""

from __future__ import annotations

import pytest

from dendrix.registry import Registry


def test_entries_are_found_by_name_and_listed_sorted():
    reg = Registry("thing")
    reg.add("b", 2)
    reg.register("a")(1)
    assert reg["a"] == 1 and reg["b"] == 2
    assert reg.names() == ["a", "b"] and list(reg) == ["a", "b"] and len(reg) == 2
    assert "a" in reg and "c" not in reg


def test_a_name_can_be_registered_only_once():
    reg = Registry("thing")
    reg.add("x", 1)
    with pytest.raises(ValueError, match="already registered"):
        reg.add("x", 2)
    assert reg["x"] == 1


def test_unknown_name_lists_the_registered_ones():
    reg = Registry("recipe")
    reg.add("alpha", 1)
    with pytest.raises(KeyError, match="unknown recipe 'beta'; registered: alpha"):
        reg["beta"]


@pytest.mark.parametrize("name", ["", None, 3])
def test_names_must_be_non_empty_strings(name):
    with pytest.raises(ValueError, match="name"):
        Registry("thing").add(name, 1)
