"""Atomic writes and provenance helpers."""

from __future__ import annotations

import json

import pytest

from dendrix._io import atomic_write, atomic_write_json, git_commit, machine_description


def test_atomic_write_replaces_the_file_in_one_step(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    atomic_write(target, lambda p: p.write_text("first"))
    atomic_write(target, lambda p: p.write_text("second"))
    assert target.read_text() == "second"
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")

    def broken(path):
        path.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, broken)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_json_is_written_strictly_without_nan(tmp_path):
    atomic_write_json(tmp_path / "a.json", {"x": [1, 2.5]})
    assert json.loads((tmp_path / "a.json").read_text()) == {"x": [1, 2.5]}
    with pytest.raises(ValueError):
        atomic_write_json(tmp_path / "b.json", {"x": float("nan")})
    assert not (tmp_path / "b.json").exists()


def test_git_commit_is_none_outside_a_checkout(tmp_path):
    assert git_commit(None) is None
    assert git_commit(tmp_path) is None


def test_machine_description_names_cpus_python_and_torch():
    text = machine_description()
    assert "CPUs" in text and "Python" in text and "torch" in text


def test_saved_state_loads_back_equal_with_dtypes_and_tuples(tmp_path):
    import numpy as np

    from dendrix._io import load_state, save_state

    state = {
        "perm": np.array([[0.21, 0.5], [1.0, 0.0]], dtype=np.float64),
        "cells": np.array([3, 1, 2], dtype=np.int32),
        "rng": {"state": {"state": 2**127 + 5, "inc": 7}, "bit_generator": "PCG64"},
        "shape": (2048, 32),
        "nested": [1, 2.5, None, "x", np.int64(4)],
        "flag": True,
    }
    save_state(tmp_path / "s.npz", state)
    back = load_state(tmp_path / "s.npz")
    assert back["perm"].dtype == np.float64 and np.array_equal(back["perm"], state["perm"])
    assert back["cells"].dtype == np.int32 and back["cells"].tolist() == [3, 1, 2]
    assert back["rng"] == state["rng"] and back["shape"] == (2048, 32)
    assert back["nested"] == [1, 2.5, None, "x", 4] and back["flag"] is True


def test_loading_something_else_is_a_clear_error(tmp_path):
    from dendrix._io import load_state

    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a dendrix state file"):
        load_state(tmp_path / "bad.npz")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_state(tmp_path / "missing.npz")
