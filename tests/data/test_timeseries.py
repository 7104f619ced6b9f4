"""Time-series CSV reading: every malformed row is named by its line."""

from __future__ import annotations

import datetime as dt

import pytest

from dendrix.data.timeseries import (
    TimeSeriesFormatError,
    bundled_series,
    read_csv_series,
)

GOOD = "timestamp,value\n2024-01-01 00:00:00,1.5\n2024-01-01 00:05:00,2\n2024-01-01 00:10:00,-3e2\n"


def write(tmp_path, text, name="s.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_rows_are_read_with_their_timestamps_values_and_lines(tmp_path):
    s = read_csv_series(write(tmp_path, GOOD))
    assert s.values.tolist() == [1.5, 2.0, -300.0]
    assert s.timestamps[1] == dt.datetime(2024, 1, 1, 0, 5)
    assert s.lines == [2, 3, 4] and s.skipped == []


def test_columns_are_chosen_by_name(tmp_path):
    text = "when,other,load\n2024-01-01T00:00:00,x,4\n2024-01-01T01:00:00,y,5\n"
    s = read_csv_series(write(tmp_path, text), timestamp_column="when", value_column="load")
    assert s.values.tolist() == [4.0, 5.0]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "is empty"),
        ("timestamp,value\n", "no usable data rows"),
        ("time,value\n2024-01-01,1\n", "line 1: no column named 'timestamp'"),
        (GOOD + "2024-01-01 00:15:00,abc\n", "line 5: value 'abc' is not a number"),
        (GOOD + "2024-01-01 00:15:00,nan\n", "line 5: value 'nan' is not finite"),
        (GOOD + "2024-01-01 00:15:00,\n", "line 5: missing cell"),
        (GOOD + "2024-01-01 00:15:00\n", "line 5: missing cell"),
        (GOOD + "yesterday,4\n", "line 5: timestamp 'yesterday' is not ISO 8601"),
        (GOOD + "2024-01-01 00:10:00,4\n", "line 5: timestamp .* is not later .*line 4"),
        (GOOD + "2023-12-31 00:00:00,4\n", "line 5: timestamp .* is not later"),
    ],
)
def test_malformed_input_is_refused_with_its_line_number(tmp_path, text, match):
    with pytest.raises(TimeSeriesFormatError, match=match):
        read_csv_series(write(tmp_path, text))


def test_skip_bad_leaves_malformed_rows_out_and_lists_them(tmp_path):
    text = GOOD + "2024-01-01 00:15:00,abc\n2024-01-01 00:20:00,7\n,8\n"
    s = read_csv_series(write(tmp_path, text), skip_bad=True)
    assert s.values.tolist() == [1.5, 2.0, -300.0, 7.0]
    assert [line for line, _ in s.skipped] == [5, 7]
    assert "not a number" in s.skipped[0][1] and "missing cell" in s.skipped[1][1]


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"absent\.csv"):
        read_csv_series(tmp_path / "absent.csv")


def test_the_bundled_series_is_nyc_taxi_with_10320_half_hourly_records():
    s = read_csv_series(bundled_series("nyc_taxi"))
    assert len(s) == 10320
    assert s.timestamps[0] == dt.datetime(2014, 7, 1)
    assert s.timestamps[1] - s.timestamps[0] == dt.timedelta(minutes=30)
    with pytest.raises(ValueError, match="name must be one of"):
        bundled_series("other")
