"""`dendrix nab --score-only`: scores a results folder with NAB's rules."""

from __future__ import annotations

import json

import pytest

from dendrix.cli import main
from dendrix.data import DataNotFoundError, dataset_path


@pytest.fixture(scope="module")
def numenta_results():
    try:
        return dataset_path("nab") / "results" / "numenta"
    except DataNotFoundError as err:
        pytest.skip(str(err))


def test_score_only_json_reproduces_the_stored_numenta_scores(numenta_results, capsys):
    assert main(["nab", "--score-only", str(numenta_results), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    stored = json.loads((numenta_results.parents[0] / "final_results.json").read_text())
    for profile, value in stored["numenta"].items():
        assert scores[profile] == pytest.approx(value, abs=0.05)


def test_score_only_on_a_missing_folder_is_an_error_naming_it(tmp_path, capsys):
    assert main(["nab", "--score-only", str(tmp_path / "absent")]) == 2
    assert "absent" in capsys.readouterr().err


def test_the_cli_offers_exactly_the_detectors_temporal_memories():
    from dendrix.cli import _TEMPORAL_MEMORIES
    from dendrix.htm.detector import TEMPORAL_MEMORIES

    assert sorted(_TEMPORAL_MEMORIES) == sorted(TEMPORAL_MEMORIES)


def test_each_temporal_memory_writes_results_under_its_own_detector_name():
    from dendrix.htm.nab_run import detector_name

    assert detector_name("backtracking") == "dendrix_htm"
    assert detector_name("htm") == "dendrix_htmTM"
    with pytest.raises(ValueError, match="temporal_memory"):
        detector_name("lstm")
