"""Reading univariate time series from CSV files (``timestamp,value``, NAB's format).

Every malformed row is reported with its line number (the header is line 1): a missing cell,
a value that is not a finite number, a timestamp that does not parse as ISO 8601
(``YYYY-MM-DD HH:MM:SS`` and the like), a timestamp not later than the one before it, and an
empty file. By default the first problem raises :class:`TimeSeriesFormatError`; with
``skip_bad=True`` bad rows are left out and listed in :attr:`TimeSeries.skipped`, so nothing
is dropped silently.
"""

from __future__ import annotations

import csv
import datetime as _dt
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["BUNDLED", "TimeSeries", "TimeSeriesFormatError", "bundled_series", "read_csv_series"]

#: Series shipped inside the package (see ``dendrix/data/bundled/README.md`` for sources).
BUNDLED = {"nyc_taxi": "nyc_taxi.csv"}


class TimeSeriesFormatError(ValueError):
    """A time-series file is malformed; the message names the file and line."""


@dataclass(frozen=True)
class TimeSeries:
    """A univariate series read from a file.

    Attributes:
        timestamps: ``datetime`` of every kept row, strictly increasing.
        values: float64 ``[N]``, finite.
        source: the file read.
        lines: the file line of every kept row.
        skipped: ``(line, reason)`` for every row left out under ``skip_bad``.
    """

    timestamps: list[_dt.datetime]
    values: np.ndarray
    source: Path
    lines: list[int]
    skipped: list[tuple[int, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.timestamps)


def _parse_time(text: str) -> _dt.datetime:
    stamp = _dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return stamp


def read_csv_series(
    path: str | os.PathLike,
    *,
    timestamp_column: str = "timestamp",
    value_column: str = "value",
    skip_bad: bool = False,
) -> TimeSeries:
    """Read a ``timestamp,value`` CSV file (column names selectable).

    Args:
        path: the CSV file; its first line is a header naming the columns.
        timestamp_column: header of the timestamp column.
        value_column: header of the value column.
        skip_bad: leave malformed rows out (listed in ``skipped``) instead of raising.

    Raises:
        FileNotFoundError: the file does not exist.
        TimeSeriesFormatError: empty file, missing columns, or (without ``skip_bad``) the
            first malformed row, with its line number.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"time-series file {path} does not exist.")
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None or not any(h.strip() for h in header):
            raise TimeSeriesFormatError(
                f"{path} is empty; expected a header line such as "
                f"'{timestamp_column},{value_column}' followed by data rows."
            )
        names = [h.strip() for h in header]
        missing = [c for c in (timestamp_column, value_column) if c not in names]
        if missing:
            raise TimeSeriesFormatError(
                f"{path}, line 1: no column named {', '.join(repr(m) for m in missing)} in the "
                f"header {names}; choose the columns with --timestamp-column/--value-column "
                "(timestamp_column=/value_column=)."
            )
        t_col, v_col = names.index(timestamp_column), names.index(value_column)
        stamps: list[_dt.datetime] = []
        values: list[float] = []
        lines: list[int] = []
        skipped: list[tuple[int, str]] = []
        for row in reader:
            line = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue  # blank lines carry no record
            problem = None
            stamp = value = None
            if len(row) <= max(t_col, v_col) or not row[t_col].strip() or not row[v_col].strip():
                problem = "missing cell"
            else:
                try:
                    stamp = _parse_time(row[t_col])
                except ValueError:
                    problem = f"timestamp {row[t_col]!r} is not ISO 8601 (YYYY-MM-DD HH:MM:SS)"
                if problem is None:
                    try:
                        value = float(row[v_col])
                    except ValueError:
                        problem = f"value {row[v_col]!r} is not a number"
                    else:
                        if not math.isfinite(value):
                            problem = f"value {row[v_col]!r} is not finite"
                if problem is None and stamps and stamp <= stamps[-1]:
                    problem = (
                        f"timestamp {row[t_col]!r} is not later than the previous one "
                        f"({stamps[-1].isoformat(sep=' ')}, line {lines[-1]})"
                    )
            if problem is not None:
                if not skip_bad:
                    raise TimeSeriesFormatError(
                        f"{path}, line {line}: {problem}. Fix the row, or pass --skip-bad "
                        "(skip_bad=True) to leave malformed rows out and list them."
                    )
                skipped.append((line, problem))
                continue
            stamps.append(stamp)
            values.append(value)
            lines.append(line)
    if not stamps:
        raise TimeSeriesFormatError(
            f"{path} has a header but no usable data rows"
            + (f" ({len(skipped)} malformed rows skipped)." if skipped else ".")
        )
    return TimeSeries(stamps, np.asarray(values, dtype=np.float64), path, lines, skipped)


def bundled_series(name: str = "nyc_taxi") -> Path:
    """Path of a series shipped with the package (see :data:`BUNDLED`)."""
    if name not in BUNDLED:
        raise ValueError(f"name must be one of {sorted(BUNDLED)}, got {name!r}.")
    return Path(__file__).resolve().parent / "bundled" / BUNDLED[name]
