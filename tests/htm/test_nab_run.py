"""Running the detector over NAB files: layout, resume, scoring round trip."""

from __future__ import annotations

import pytest

from dendrix.data import DataNotFoundError
from dendrix.htm import nab
from dendrix.htm.nab_run import run_corpus

SMALL = {
    "columns": 256,
    "num_active_columns": 8,
    "cells_per_column": 4,
    "activation_threshold": 5,
    "min_threshold": 4,
    "max_new_synapse_count": 8,
}


@pytest.fixture(scope="module")
def corpus():
    try:
        return nab.load_corpus()
    except DataNotFoundError as err:
        pytest.skip(str(err))


@pytest.fixture(scope="module")
def two_files(corpus):
    return sorted(corpus.keys, key=lambda k: len(corpus[k]))[:2]


def test_results_follow_nabs_layout_and_rows(corpus, two_files, tmp_path):
    run = run_corpus(tmp_path, corpus=corpus, files=two_files, workers=2, overrides=SMALL)
    assert sorted(run["ran"]) == sorted(two_files) and run["resumed"] == []
    for key in two_files:
        category, name = key.split("/")
        path = tmp_path / "dendrix_htm" / category / f"dendrix_htm_{name}"
        lines = path.read_text().splitlines()
        assert lines[0] == "timestamp,value,anomaly_score"
        assert len(lines) == len(corpus[key]) + 1
        scores = [float(line.rsplit(",", 1)[1]) for line in lines[1:]]
        assert all(-1e-9 <= x <= 1.0 for x in scores)


def test_a_rerun_resumes_without_recomputing_complete_files(corpus, two_files, tmp_path):
    run_corpus(tmp_path, corpus=corpus, files=two_files[:1], workers=1, overrides=SMALL)
    again = run_corpus(tmp_path, corpus=corpus, files=two_files, workers=1, overrides=SMALL)
    assert again["resumed"] == two_files[:1] and again["ran"] == two_files[1:]


def test_results_do_not_depend_on_the_number_of_workers(corpus, two_files, tmp_path):
    run_corpus(tmp_path / "a", corpus=corpus, files=two_files, workers=1, overrides=SMALL)
    run_corpus(tmp_path / "b", corpus=corpus, files=two_files, workers=2, overrides=SMALL)
    for path in (tmp_path / "a").rglob("*.csv"):
        twin = tmp_path / "b" / path.relative_to(tmp_path / "a")
        assert path.read_bytes() == twin.read_bytes()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"files": ["nope/none.csv"]}, "not in the NAB corpus"),
        ({"overrides": {"value_min": 0.0}}, "cannot be set"),
        ({"overrides": {"colums": 10}}, "colums"),
    ],
)
def test_bad_arguments_are_refused(corpus, tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        run_corpus(tmp_path, corpus=corpus, **kwargs)
