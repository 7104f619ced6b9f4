"""The data-root resolver: search order, explicit override, helpful errors."""

from __future__ import annotations

import pytest

from dendrix.data import DataNotFoundError, data_root, dataset_path, repository_root


@pytest.fixture
def no_env(monkeypatch, tmp_path):
    monkeypatch.delenv("DENDRIX_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_environment_variable_wins(monkeypatch, tmp_path):
    (tmp_path / "mnist").mkdir()
    monkeypatch.setenv("DENDRIX_DATA", str(tmp_path))
    assert data_root() == tmp_path
    assert dataset_path("mnist") == tmp_path / "mnist"


def test_environment_variable_is_never_second_guessed(monkeypatch, tmp_path):
    # A set DENDRIX_DATA without the data set must fail, even if ../shared/data has it.
    monkeypatch.setenv("DENDRIX_DATA", str(tmp_path))
    with pytest.raises(DataNotFoundError, match="DENDRIX_DATA"):
        dataset_path("mnist")


def test_environment_variable_pointing_nowhere_is_reported(monkeypatch, tmp_path):
    monkeypatch.setenv("DENDRIX_DATA", str(tmp_path / "missing"))
    with pytest.raises(DataNotFoundError, match="not a directory"):
        data_root()


def test_checkout_finds_the_shared_folder_beside_the_repository(no_env):
    repo = repository_root()
    assert repo is not None and (repo / "pyproject.toml").is_file()
    shared = repo.parent / "shared" / "data"
    if not shared.is_dir():
        pytest.skip("no ../shared/data beside this checkout")
    assert data_root() == shared
    assert dataset_path("mnist") == shared / "mnist"


def test_user_cache_is_the_last_resort(monkeypatch, tmp_path):
    monkeypatch.delenv("DENDRIX_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr("dendrix.data.paths.repository_root", lambda: None)
    (tmp_path / "dendrix" / "data" / "nab").mkdir(parents=True)
    assert dataset_path("nab") == tmp_path / "dendrix" / "data" / "nab"


def test_missing_data_set_lists_every_place_searched_and_the_source(monkeypatch, tmp_path):
    monkeypatch.delenv("DENDRIX_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr("dendrix.data.paths.repository_root", lambda: tmp_path / "repo")
    with pytest.raises(DataNotFoundError) as info:
        dataset_path("fashion-mnist")
    message = str(info.value)
    assert str(tmp_path / "shared" / "data" / "fashion-mnist") in message
    assert str(tmp_path / "dendrix" / "data" / "fashion-mnist") in message
    assert "zalandoresearch" in message
    assert "never downloads" in message


@pytest.mark.parametrize("name", ["", "../etc", ".hidden", 3])
def test_bad_data_set_names_are_refused(name):
    with pytest.raises(ValueError, match="name"):
        dataset_path(name)
