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
