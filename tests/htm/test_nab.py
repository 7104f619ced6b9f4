"""The NAB scorer: each scoring rule on hand-built files, NAB's stored scores, bad input."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from dendrix.data import DataNotFoundError
from dendrix.htm.nab import (
    PROFILES,
    Corpus,
    CorpusFile,
    NABFormatError,
    load_corpus,
    optimize_threshold,
    probation_length,
    read_results,
    scaled_sigmoid,
    score_corpus,
    score_detector,
    score_file,
    write_results,
)


def sig(y: float) -> float:
    """NAB's scaled sigmoid written out for y < 3: 2 / (1 + e^(5y)) - 1."""
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


# A hand-built file: N = 100 one-minute records, so probation = floor(0.15 * 100) = 15
# records, and one window over records 40..49 (L = 40, R = 49, width W = 10).
N = 100
TIMES = np.datetime64("2020-01-01T00:00:00") + np.arange(N) * np.timedelta64(1, "m")


def score(detections, profile="standard", windows=((40, 49),), n=N):
    """Score a file that is 1.0 at ``detections`` and 0 elsewhere, at threshold 0.5."""
    values = np.zeros(n)
    values[list(detections)] = 1.0
    edges = [(TIMES[a], TIMES[b]) for a, b in windows]
    return score_file(values, TIMES[:n], edges, profile, 0.5)


# --------------------------------------------------------------------------------------------
# The rules, on hand-built files.


def test_scaled_sigmoid_matches_the_values_nab_documents():
    # NAB's documentation: -1 -> 0.98661, -0.5 -> 0.84828, 0 -> 0, 1 -> -0.98661, >= 3 -> -1.
    got = scaled_sigmoid(np.array([-1.0, -0.5, 0.0, 1.0, 3.0, 50.0]))
    np.testing.assert_allclose(got, [0.98661, 0.84828, 0.0, -0.98661, -1.0, -1.0], atol=1e-5)
    assert scaled_sigmoid(3.0) == -1.0  # clamped from y = 3 on, not merely close to -1


def test_probation_is_fifteen_percent_of_the_file_capped_at_750_records():
    assert probation_length(100) == 15
    assert probation_length(4032) == 604  # floor(604.8)
    assert probation_length(5000) == 750
    assert probation_length(22695) == 750
    assert probation_length(6) == 0


def test_detection_at_window_left_edge_earns_the_full_true_positive_weight():
    result = score([40])
    assert result.raw == pytest.approx(1.0)  # position -(49 - 40 + 1) / 10 = -1
    assert (result.true_positives, result.false_negatives, result.false_positives) == (1, 0, 0)


def test_detection_at_window_right_edge_earns_sigmoid_of_minus_one_over_width():
    expected = sig(-(49 - 49 + 1) / 10) / sig(-1.0)
    assert score([49]).raw == pytest.approx(expected)
    assert 0.0 < expected < 0.3


def test_detection_mid_window_earns_sigmoid_of_its_relative_position():
    assert score([45]).raw == pytest.approx(sig(-(49 - 45 + 1) / 10) / sig(-1.0))


def test_only_the_earliest_detection_in_a_window_counts():
    result = score([48, 42, 45])
    assert result.raw == pytest.approx(sig(-(49 - 42 + 1) / 10) / sig(-1.0))
    assert (result.true_positives, result.false_positives) == (1, 0)


def test_window_without_detection_costs_the_false_negative_weight():
    assert score([]).raw == pytest.approx(-1.0)
    assert score([], profile="reward_low_FN_rate").raw == pytest.approx(-2.0)
    assert score([]).false_negatives == 1


def test_false_positive_just_after_a_window_costs_almost_nothing():
    # missed window (-1) plus A_FP * sig(|R - i| / (W - 1)) with i = R + 1
    result = score([50])
    assert result.raw == pytest.approx(-1.0 + 0.11 * sig(1 / 9))
    assert (result.false_positives, result.false_negatives) == (1, 1)


def test_false_positive_three_window_widths_after_costs_the_full_fp_weight():
    # |R - i| / (W - 1) = 27 / 9 = 3, where the sigmoid is clamped to -1
    assert score([49 + 27]).raw == pytest.approx(-1.0 - 0.11)
    assert score([99]).raw == pytest.approx(-1.0 - 0.11)


def test_false_positive_is_measured_from_the_nearest_preceding_window():
    # windows 40..49 (W = 10) and 60..64 (W' = 5); a detection at 66 is 2 / 4 past the second
    result = score([40, 60, 66], windows=((40, 49), (60, 64)))
    assert result.raw == pytest.approx(1.0 + 1.0 + 0.11 * sig(2 / 4))


def test_false_positive_before_any_window_costs_the_full_fp_weight():
    assert score([20]).raw == pytest.approx(-1.0 - 0.11)
    assert score([20], profile="reward_low_FP_rate").raw == pytest.approx(-1.0 - 0.22)


def test_every_false_positive_counts():
    result = score([20, 21, 22])
    assert result.raw == pytest.approx(-1.0 - 3 * 0.11)
    assert result.false_positives == 3


def test_probationary_detections_are_ignored():
    result = score([0, 10, 14])  # records 0..14 are the probation period
    assert result.raw == pytest.approx(-1.0)
    assert result.false_positives == 0
    assert score([15]).raw == pytest.approx(-1.0 - 0.11)  # the first scored record


def test_window_reaching_past_probation_keeps_its_full_width():
    # window 10..19 (W = 10): the probationary detection at 12 cannot detect it
    assert score([12], windows=((10, 19),)).raw == pytest.approx(-1.0)
    assert score([16], windows=((10, 19),)).raw == pytest.approx(sig(-4 / 10) / sig(-1.0))


def test_window_inside_probation_is_not_scored_but_still_precedes_false_positives():
    result = score([], windows=((2, 11),))
    assert (result.raw, result.false_negatives) == (0.0, 0)
    # a detection at 16 is (16 - 11) / (10 - 1) past that window, not "before any window"
    assert score([16], windows=((2, 11),)).raw == pytest.approx(0.11 * sig(5 / 9))


def test_threshold_is_inclusive():
    values = np.zeros(N)
    values[40] = 0.7
    edges = [(TIMES[40], TIMES[49])]
    assert score_file(values, TIMES, edges, "standard", 0.7).raw == pytest.approx(1.0)
    assert score_file(values, TIMES, edges, "standard", 0.7001).raw == pytest.approx(-1.0)


def test_window_edges_must_be_record_times():
    with pytest.raises(NABFormatError, match="not the time of any record"):
        score_file(np.zeros(N), TIMES, [("2019-01-01 00:00:00", TIMES[49])], "standard", 0.5)


def test_profiles_are_nab_cost_matrices():
    weights = {name: (p.tp_weight, p.fn_weight, p.fp_weight) for name, p in PROFILES.items()}
    assert weights == {
        "standard": (1.0, 1.0, 0.11),
        "reward_low_FP_rate": (1.0, 1.0, 0.22),
        "reward_low_FN_rate": (1.0, 2.0, 0.11),
    }


# --------------------------------------------------------------------------------------------
# The NAB corpus and the stored scores of the "numenta" detector.


@pytest.fixture(scope="module")
def corpus():
    try:
        return load_corpus()
    except DataNotFoundError as error:
        pytest.skip(f"NAB data set not available: {error}")


@pytest.fixture(scope="module")
def numenta_dir(corpus):
    path = corpus.root / "results" / "numenta"
    if not path.is_dir():
        pytest.skip(f"NAB results of the numenta detector not available at {path}")
    return path


@pytest.fixture(scope="module")
def numenta_scores(corpus, numenta_dir):
    return read_results(numenta_dir, "numenta", corpus)


def test_corpus_has_nab_files_and_windows(corpus):
    assert len(corpus) == 58
    assert corpus.num_windows == 116
    assert sum(len(f) for f in corpus) == 365_558  # NAB's Total_Count over the 58 files


def test_numenta_reproduces_the_stored_final_results(corpus, numenta_dir):
    stored = json.loads((corpus.root / "results" / "final_results.json").read_text())
    result = score_detector(numenta_dir, corpus=corpus)  # detector name inferred
    for profile, expected in stored["numenta"].items():
        assert result[profile].normalized == pytest.approx(expected, abs=0.05), profile


def test_scoring_at_nab_thresholds_reproduces_its_raw_scores(corpus, numenta_scores):
    stored = json.loads((corpus.root / "config" / "thresholds.json").read_text())["numenta"]
    thresholds = {profile: entry["threshold"] for profile, entry in stored.items()}
    result = score_corpus(numenta_scores, corpus, thresholds=thresholds)
    for profile, entry in stored.items():
        assert result[profile].raw == pytest.approx(entry["score"], abs=1e-6), profile


def test_per_file_scores_match_nab_score_tables(corpus, numenta_dir, numenta_scores):
    for profile in PROFILES:
        with (numenta_dir / f"numenta_{profile}_scores.csv").open(newline="") as handle:
            rows = [r for r in csv.DictReader(handle) if r["Detector"] == "numenta"]
        threshold = float(rows[0]["Threshold"])
        result = score_corpus(
            numenta_scores, corpus, thresholds={profile: threshold}, profiles=[profile]
        )[profile]
        assert len(rows) == 58
        for row in rows:
            got = result.files[row["File"]]
            assert got.raw == pytest.approx(float(row["Score"]), abs=1e-6), row["File"]
            assert got.false_positives == int(row["FP"]), row["File"]


def test_nab_search_finds_nab_thresholds(corpus, numenta_scores):
    # NAB breaks ties inside a plateau differently; its search tolerance is 1e-7
    stored = json.loads((corpus.root / "config" / "thresholds.json").read_text())["numenta"]
    for profile, entry in stored.items():
        threshold, raw = optimize_threshold(numenta_scores, corpus, profile, search="nab")
        assert threshold == pytest.approx(entry["threshold"], abs=1e-6), profile
        assert raw == pytest.approx(entry["score"], abs=1e-6), profile


def test_exact_search_never_scores_below_nab_search(corpus, numenta_scores):
    nab = score_corpus(numenta_scores, corpus, search="nab")
    exact = score_corpus(numenta_scores, corpus, search="exact")
    for profile in PROFILES:
        assert exact[profile].raw >= nab[profile].raw - 1e-9, profile


@pytest.mark.parametrize("search", ["nab", "exact"])
def test_null_detector_scores_zero(corpus, search):
    zeros = {f.key: np.zeros(len(f)) for f in corpus}
    for profile, result in score_corpus(zeros, corpus, search=search).items():
        assert result.normalized == pytest.approx(0.0, abs=1e-9), profile


@pytest.mark.parametrize("search", ["nab", "exact"])
def test_perfect_detector_scores_hundred(corpus, search):
    perfect = {}
    for f in corpus:
        perfect[f.key] = np.zeros(len(f))
        perfect[f.key][[left for left, _ in f.windows]] = 1.0
    for profile, result in score_corpus(perfect, corpus, search=search).items():
        assert result.normalized == pytest.approx(100.0, abs=1e-9), profile
        assert (result.false_negatives, result.false_positives) == (0, 0)


def test_exact_search_finds_the_best_of_all_thresholds():
    # Brute force with score_file at every distinct score, on two files with tied scores and
    # a window that reaches into the probation period (records 0..14).
    rng = np.random.default_rng(0)
    windows = {"c/a.csv": ((10, 19), (40, 49)), "c/b.csv": ((60, 79),)}
    files = tuple(
        CorpusFile(key, TIMES, np.zeros(N), w, probation_length(N)) for key, w in windows.items()
    )
    corpus = Corpus(root=Path("."), files=files)
    scores = {key: rng.integers(0, 40, N) / 40.0 for key in windows}
    for name in PROFILES:

        def brute(threshold, name=name):
            return sum(
                score_file(
                    scores[key], TIMES, [(TIMES[a], TIMES[b]) for a, b in w], name, threshold
                ).raw
                for key, w in windows.items()
            )

        best = max(brute(t) for t in np.unique(np.concatenate(list(scores.values()))))
        best = max(best, brute(2.0))
        threshold, raw = optimize_threshold(scores, corpus, name, search="exact")
        assert raw == pytest.approx(best), name
        assert brute(threshold) == pytest.approx(best), name
        threshold, raw = optimize_threshold(scores, corpus, name, search="nab")
        assert brute(threshold) == pytest.approx(raw), name


# --------------------------------------------------------------------------------------------
# Results files and bad input, on a tiny NAB folder.


def write_csv(path: Path, header, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


STAMPS = [str(t).replace("T", " ") for t in TIMES]


@pytest.fixture
def tiny_root(tmp_path):
    """A NAB folder with one file ``cat/a.csv`` of N records and a window over 40..49."""
    root = tmp_path / "nab"
    write_csv(root / "data" / "cat" / "a.csv", ["timestamp", "value"], [(t, 1) for t in STAMPS])
    labels = {"cat/a.csv": [[STAMPS[40] + ".000000", STAMPS[49] + ".000000"]]}
    (root / "labels").mkdir()
    (root / "labels" / "combined_windows.json").write_text(json.dumps(labels))
    return root


def test_written_results_are_scored_with_the_detector_name_inferred(tiny_root, tmp_path):
    corpus = load_corpus(tiny_root)
    scores = np.zeros(N)
    scores[[20, 45]] = 1.0  # one false positive before the window, one mid-window detection
    out = tmp_path / "results" / "mydet"
    path = write_results(out, "mydet", "cat/a.csv", TIMES, np.ones(N), scores)
    assert path == out / "cat" / "mydet_a.csv"
    assert path.read_text().splitlines()[0] == "timestamp,value,anomaly_score"
    result = score_detector(out, corpus=corpus, thresholds={"standard": 0.5})["standard"]
    assert result.raw == pytest.approx(sig(-(49 - 45 + 1) / 10) / sig(-1.0) - 0.11)
    assert result.normalized == pytest.approx(100 * (result.raw + 1) / 2)


def test_missing_results_file_is_named(tiny_root, tmp_path):
    corpus = load_corpus(tiny_root)
    with pytest.raises(NABFormatError, match=r"'cat/a.csv'.*does not exist"):
        score_detector(tmp_path / "empty", "mydet", corpus)


def test_results_without_anomaly_score_column_are_refused(tiny_root, tmp_path):
    path = tmp_path / "res" / "cat" / "d_a.csv"
    write_csv(path, ["timestamp", "value", "score"], [(t, 1, 0.0) for t in STAMPS])
    with pytest.raises(NABFormatError, match=r"d_a\.csv.*anomaly_score"):
        score_detector(tmp_path / "res", "d", load_corpus(tiny_root))


def test_results_with_wrong_row_count_are_refused(tiny_root, tmp_path):
    path = tmp_path / "res" / "cat" / "d_a.csv"
    write_csv(path, ["timestamp", "anomaly_score"], [(t, 0.0) for t in STAMPS[:-1]])
    with pytest.raises(NABFormatError, match=rf"d_a\.csv: {N - 1} data rows.*has {N}"):
        score_detector(tmp_path / "res", "d", load_corpus(tiny_root))


def test_non_numeric_score_is_reported_with_its_line(tiny_root, tmp_path):
    rows = [[t, 0.0] for t in STAMPS]
    rows[7][1] = "abc"  # data row 7 is line 9 (line 1 is the header)
    write_csv(tmp_path / "res" / "cat" / "d_a.csv", ["timestamp", "anomaly_score"], rows)
    with pytest.raises(NABFormatError, match=r"d_a\.csv, line 9: anomaly_score 'abc'"):
        score_detector(tmp_path / "res", "d", load_corpus(tiny_root))


def test_results_with_other_timestamps_are_reported_with_the_line(tiny_root, tmp_path):
    rows = [[t, 0.0] for t in STAMPS]
    rows[3][0] = "2021-01-01 00:00:00"
    write_csv(tmp_path / "res" / "cat" / "d_a.csv", ["timestamp", "anomaly_score"], rows)
    with pytest.raises(NABFormatError, match=r"line 5: timestamp '2021-01-01 00:00:00'"):
        score_detector(tmp_path / "res", "d", load_corpus(tiny_root))


def test_two_detectors_in_one_folder_need_an_explicit_name(tiny_root, tmp_path):
    for name in ("one", "two"):
        write_results(tmp_path / "res", name, "cat/a.csv", TIMES, np.ones(N), np.zeros(N))
    corpus = load_corpus(tiny_root)
    with pytest.raises(NABFormatError, match="pass detector"):
        score_detector(tmp_path / "res", corpus=corpus)
    assert score_detector(tmp_path / "res", "two", corpus)["standard"].normalized == 0.0


def test_write_results_refuses_bad_keys_and_lengths(tmp_path):
    with pytest.raises(ValueError, match="file_key"):
        write_results(tmp_path, "d", "a.csv", TIMES, np.ones(N), np.zeros(N))
    with pytest.raises(ValueError, match="one length"):
        write_results(tmp_path, "d", "cat/a.csv", TIMES, np.ones(N), np.zeros(N - 1))
    assert not any(tmp_path.rglob("*.csv"))
