r"""The Numenta Anomaly Benchmark (NAB v1.0) scorer: corpus loading, scoring, result files.

NAB (Lavin & Ahmad 2015, "Evaluating real-time anomaly detection algorithms -- the Numenta
Anomaly Benchmark", arXiv:1510.03336; Ahmad, Lavin, Purdy & Agha 2017, "Unsupervised
real-time anomaly detection for streaming data", Neurocomputing 262:134-147) scores a
detector that emits one anomaly score :math:`a_i` per record :math:`i = 0, \dots, N-1` of
each of the 58 corpus files. A record is a *detection* when :math:`a_i \ge \theta`, for one
threshold :math:`\theta` per detector and profile, shared by every file.

Scoring equations (per file, then summed over the corpus):

* Probation. The first :math:`P = \min(\lfloor 0.15 N \rfloor, 0.15 \cdot 5000 = 750)`
  records are a probationary (learning) period: detections there are ignored, neither
  rewarded nor penalised. Windows, their widths and positions are still measured on all
  :math:`N` records; a window that ends inside the probation period is not scored at all
  (neither reward nor :math:`-A_{FN}`, and it is left out of :math:`K` below).
* Scaled sigmoid. :math:`\sigma(y) = 2 / (1 + e^{5y}) - 1` for :math:`y < 3` and
  :math:`\sigma(y) = -1` for :math:`y \ge 3`; it falls from :math:`\sigma(-1) \approx 0.987`
  through :math:`\sigma(0) = 0` towards :math:`-1`.
* Windows. Each labelled anomaly window :math:`k` covers records :math:`L_k \dots R_k`
  (inclusive), of width :math:`W_k = R_k - L_k + 1` records. A record :math:`i` inside
  window :math:`k` has relative position :math:`y_i = -(R_k - i + 1) / W_k \in [-1, -1/W_k]`
  and true-positive value :math:`A_{TP}\,\sigma(y_i) / \sigma(-1)`, which is :math:`A_{TP}` at
  the left edge and close to 0 at the right edge.
* Each window contributes once: the value of its best, i.e. earliest, detection, or
  :math:`-A_{FN}` when none of its scored records is a detection.
* False positives. A detection outside every window, with :math:`R'` and :math:`W'` the right
  edge and width of the last window that ended before it, contributes
  :math:`A_{FP}\,\sigma(|R' - i| / (W' - 1))`, between :math:`-0` (just after the window)
  and :math:`-A_{FP}` (:math:`3 (W' - 1)` or more records later); one before any window
  contributes :math:`-A_{FP}`. Every false positive counts. (NAB's :math:`W' - 1` is 0 for
  a one-record window; it is taken as 1 there.)
* Raw score. :math:`S = \sum_{\text{windows}} (\text{window value})
  + \sum_{\text{false positives}} (\text{FP value})`, summed over all files.
* Profiles give :math:`(A_{TP}, A_{FN}, A_{FP})`: ``standard`` (1, 1, 0.11),
  ``reward_low_FP_rate`` (1, 1, 0.22), ``reward_low_FN_rate`` (1, 2, 0.11) (NAB's
  ``config/profiles.json``; its true-negative weight is unused by the score).
* Threshold. :math:`\theta` maximises the corpus raw score :math:`S(\theta)`, a step
  function that only changes at the distinct anomaly scores; one sorted pass tabulates it at
  all of them (:func:`optimize_threshold`). NAB searches it with a local hill climb from 0.5
  (``search="nab"``, the default, which reproduces NAB's published thresholds and scores);
  ``search="exact"`` takes the global maximum, which can be higher (for the ``numenta``
  detector under ``reward_low_FP_rate``: 63.21 against NAB's 63.12).
* Normalised score. :math:`100\,(S - S_{null}) / (S_{perfect} - S_{null})` with
  :math:`S_{null} = -A_{FN} K` (the detector that never fires) and
  :math:`S_{perfect} = A_{TP} K` (every window detected at its first record, no false
  positives), :math:`K` the number of scored windows (116 in NAB's corpus).

Data come from :func:`dendrix.data.dataset_path` ``("nab")``, laid out as NAB's repository:
``data/<category>/<file>.csv``, ``labels/combined_windows.json``; a detector's results as
``<results_dir>/<category>/<detector>_<file>.csv`` with an ``anomaly_score`` column.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np

__all__ = [
    "PROBATIONARY_PERCENT",
    "PROFILES",
    "SEARCHES",
    "Corpus",
    "CorpusFile",
    "FileScore",
    "NABFormatError",
    "Profile",
    "ProfileScore",
    "infer_detector",
    "load_corpus",
    "normalized_score",
    "optimize_threshold",
    "probation_length",
    "read_results",
    "scaled_sigmoid",
    "score_corpus",
    "score_detector",
    "score_file",
    "window_indices",
    "write_results",
]

#: Fraction of each file (at most ``0.15 * 5000`` records) that is an unscored learning period.
PROBATIONARY_PERCENT = 0.15


@dataclass(frozen=True)
class Profile:
    """Cost weights of one NAB application profile.

    Attributes:
        name: profile name as in NAB's ``config/profiles.json``.
        tp_weight: :math:`A_{TP}`, the reward of a window detected at its first record.
        fn_weight: :math:`A_{FN}`, the cost of a window with no detection.
        fp_weight: :math:`A_{FP}`, the largest cost of one false positive.
    """

    name: str
    tp_weight: float
    fn_weight: float
    fp_weight: float


#: NAB's three application profiles (``config/profiles.json``).
PROFILES: Mapping[str, Profile] = MappingProxyType(
    {
        "standard": Profile("standard", 1.0, 1.0, 0.11),
        "reward_low_FP_rate": Profile("reward_low_FP_rate", 1.0, 1.0, 0.22),
        "reward_low_FN_rate": Profile("reward_low_FN_rate", 1.0, 2.0, 0.11),
    }
)


class NABFormatError(ValueError):
    """A corpus or results file is missing, malformed, or does not match the corpus."""


@dataclass(frozen=True, eq=False)
class CorpusFile:
    """One corpus time series with its labelled windows.

    Attributes:
        key: ``"<category>/<file>.csv"``, the key of NAB's label files.
        timestamps: ``datetime64[s]`` array of the ``N`` record times.
        values: float64 array of the ``N`` record values.
        windows: inclusive record-index ranges ``(L, R)`` of the anomaly windows, in order.
        probation: number of leading records that are never scored.
    """

    key: str
    timestamps: np.ndarray
    values: np.ndarray
    windows: tuple[tuple[int, int], ...]
    probation: int

    def __len__(self) -> int:
        return int(self.timestamps.shape[0])

    def __repr__(self) -> str:
        return (
            f"CorpusFile({self.key!r}, records={len(self)}, windows={self.windows}, "
            f"probation={self.probation})"
        )


@dataclass(frozen=True, eq=False)
class Corpus:
    """The NAB corpus: every data file with its windows, sorted by key.

    Attributes:
        root: the NAB folder it was read from.
        files: the corpus files, sorted by :attr:`CorpusFile.key`.
    """

    root: Path
    files: tuple[CorpusFile, ...]
    _by_key: Mapping[str, CorpusFile] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_key", MappingProxyType({f.key: f for f in self.files}))

    def __getitem__(self, key: str) -> CorpusFile:
        try:
            return self._by_key[key]
        except KeyError:
            raise KeyError(
                f"{key!r} is not a corpus file; keys look like 'realKnownCause/nyc_taxi.csv'."
            ) from None

    def __iter__(self) -> Iterator[CorpusFile]:
        return iter(self.files)

    def __repr__(self) -> str:
        return f"Corpus({str(self.root)!r}, files={len(self)}, windows={self.num_windows})"

    def __len__(self) -> int:
        return len(self.files)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(f.key for f in self.files)

    @property
    def num_windows(self) -> int:
        """Number of windows that are scored (with at least one record after probation)."""
        return sum(_num_scored_windows(f.windows, f.probation) for f in self.files)


@dataclass(frozen=True)
class FileScore:
    """The score of one file at one threshold.

    Attributes:
        raw: the file's raw score (window values plus false-positive values).
        true_positives: windows with at least one scored detection.
        false_negatives: windows without one.
        false_positives: scored detections outside every window (records, not windows).

    NAB's per-file tables count TP and FN in records (every detected or undetected record
    inside windows); here they count windows, which is what the score rewards.
    """

    raw: float
    true_positives: int
    false_negatives: int
    false_positives: int


@dataclass(frozen=True)
class ProfileScore:
    """A detector's corpus score under one profile.

    Attributes:
        profile: the profile's name.
        threshold: detection threshold used (``anomaly_score >= threshold`` detects).
        raw: corpus raw score at that threshold.
        normalized: ``100 (raw - null_raw) / (perfect_raw - null_raw)``.
        null_raw: raw score of the detector that never fires.
        perfect_raw: raw score of the perfect detector.
        true_positives: detected windows, corpus-wide.
        false_negatives: missed windows, corpus-wide.
        false_positives: scored detections outside windows, corpus-wide.
        files: per-file scores at ``threshold``, by corpus key.
    """

    profile: str
    threshold: float
    raw: float
    normalized: float
    null_raw: float
    perfect_raw: float
    true_positives: int
    false_negatives: int
    false_positives: int
    files: Mapping[str, FileScore]


# --------------------------------------------------------------------------------------------
# The scoring rules.


def scaled_sigmoid(y: float | np.ndarray) -> np.ndarray:
    """NAB's scaled sigmoid :math:`\\sigma(y) = 2 / (1 + e^{5y}) - 1`, and -1 for ``y >= 3``.

    Args:
        y: relative position(s), in window widths.
    """
    y = np.asarray(y, dtype=np.float64)
    with np.errstate(over="ignore"):  # exp overflows to inf for huge y, giving -1 anyway
        out = 2.0 / (1.0 + np.exp(5.0 * y)) - 1.0
    return np.where(y >= 3.0, -1.0, out)


def probation_length(n: int, probationary_percent: float = PROBATIONARY_PERCENT) -> int:
    """Number of leading, unscored records of an ``n``-record file: min(floor(p n), 5000 p).

    Args:
        n: number of records in the file.
        probationary_percent: NAB's ``probationaryPercent`` ``p`` (0.15).
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be a non-negative integer number of records, got {n!r}.")
    if not 0.0 <= probationary_percent <= 1.0:
        raise ValueError(
            f"probationary_percent must be in [0, 1], got {probationary_percent!r} (NAB uses 0.15)."
        )
    return int(min(math.floor(probationary_percent * n), probationary_percent * 5000))


def _to_datetime64(values: Iterable[object] | np.ndarray, what: str) -> np.ndarray:
    """Parse timestamps (strings such as ``'2014-04-10 07:15:00.000000'`` or datetime64)."""
    array = np.asarray(values)
    if np.issubdtype(array.dtype, np.datetime64):
        return array.astype("datetime64[s]")
    try:
        text = np.char.replace(np.asarray(array, dtype=str), " ", "T")
        return text.astype("datetime64[us]").astype("datetime64[s]")
    except ValueError as error:
        raise NABFormatError(
            f"{what}: cannot parse timestamps ({error}); expected 'YYYY-MM-DD HH:MM:SS'."
        ) from None


def window_indices(
    timestamps: Sequence[object] | np.ndarray,
    windows: Iterable[Sequence[object]],
    *,
    name: str = "windows",
) -> tuple[tuple[int, int], ...]:
    """Map ``(start, end)`` timestamp windows to inclusive record-index ranges ``(L, R)``.

    ``L`` and ``R`` are the first records whose time equals ``start`` and ``end`` exactly, as
    in NAB. Times are matched, not searched for: NAB's corpus repeats times (daylight-saving
    changes) and even steps back once (``machine_temperature_system_failure.csv``), and its
    window edges are always record times.

    Args:
        timestamps: the file's record times (strings or datetime64).
        windows: ``(start, end)`` pairs, as in NAB's ``labels/combined_windows.json``.
        name: how errors refer to the windows (e.g. the file's key).
    """
    times = _to_datetime64(timestamps, name)
    if times.ndim != 1:
        raise ValueError(f"{name}: timestamps must be one-dimensional, got shape {times.shape}.")
    out: list[tuple[int, int]] = []
    for k, window in enumerate(windows):
        if len(window) != 2:
            raise ValueError(f"{name}: window {k} must be a (start, end) pair, got {window!r}.")
        edges = _to_datetime64(list(window), f"{name} window {k}")
        index = []
        for edge in edges:
            match = np.flatnonzero(times == edge)
            if match.size == 0:
                raise NABFormatError(
                    f"{name}: window {k} edge {edge} is not the time of any record; window "
                    "edges must be record times."
                )
            index.append(int(match[0]))
        if index[1] < index[0]:
            raise ValueError(
                f"{name}: window {k} ends (record {index[1]}) before it starts (record {index[0]})."
            )
        out.append((index[0], index[1]))
    return _check_index_windows(out, len(times), name)


def _check_index_windows(
    windows: Iterable[tuple[int, int]], n: int, name: str
) -> tuple[tuple[int, int], ...]:
    out = tuple(sorted((int(a), int(b)) for a, b in windows))
    for k, (left, right) in enumerate(out):
        if not 0 <= left <= right < n:
            raise ValueError(
                f"{name}: window {(left, right)} is not an index range inside [0, {n})."
            )
        if k and left <= out[k - 1][1]:
            raise NABFormatError(
                f"{name}: windows {out[k - 1]} and {(left, right)} overlap; NAB windows are "
                "disjoint."
            )
    return out


def _num_scored_windows(windows: Sequence[tuple[int, int]], probation: int) -> int:
    return sum(1 for _, right in windows if right >= probation)


def _row_values(
    n: int, windows: Sequence[tuple[int, int]], profile: Profile
) -> tuple[np.ndarray, np.ndarray]:
    """Per-record value of a detection there, and its window id (-1 outside windows)."""
    value = np.empty(n, dtype=np.float64)
    window_id = np.full(n, -1, dtype=np.int64)
    index = np.arange(n, dtype=np.float64)
    tp_scale = profile.tp_weight / float(scaled_sigmoid(-1.0))
    value[: windows[0][0] if windows else n] = -profile.fp_weight  # before any window
    for k, (left, right) in enumerate(windows):
        width = right - left + 1
        inside = slice(left, right + 1)
        value[inside] = tp_scale * scaled_sigmoid(-(right - index[inside] + 1.0) / width)
        window_id[inside] = k
        stop = windows[k + 1][0] if k + 1 < len(windows) else n
        after = slice(right + 1, stop)
        # NAB divides by (W' - 1), undefined for a one-record window; treat it as 1 there.
        value[after] = profile.fp_weight * scaled_sigmoid(
            np.abs(right - index[after]) / max(width - 1, 1)
        )
    return value, window_id


def _resolve_profile(profile: Profile | str) -> Profile:
    if isinstance(profile, Profile):
        return profile
    if isinstance(profile, str) and profile in PROFILES:
        return PROFILES[profile]
    raise ValueError(f"profile must be a Profile or one of {sorted(PROFILES)}, got {profile!r}.")


def _as_scores(scores: object, name: str) -> np.ndarray:
    array = np.asarray(scores, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}.")
    if not np.all(np.isfinite(array)):
        bad = int(np.flatnonzero(~np.isfinite(array))[0])
        raise ValueError(f"{name} must be finite; record {bad} is {array[bad]}.")
    return array


def _score_indexed(
    scores: np.ndarray,
    windows: Sequence[tuple[int, int]],
    probation: int,
    profile: Profile,
    threshold: float,
) -> FileScore:
    value, window_id = _row_values(len(scores), windows, profile)
    hit = scores >= threshold
    hit[:probation] = False
    fp = hit & (window_id < 0)
    raw = float(value[fp].sum())
    tp = fn = 0
    for left, right in windows:
        if right < probation:
            continue  # a window wholly inside the probation period is not scored
        first = max(left, probation)
        detected = np.flatnonzero(hit[first : right + 1])
        if detected.size:
            tp += 1
            raw += float(value[first + detected[0]])  # earliest detection = best value
        else:
            fn += 1
            raw -= profile.fn_weight
    return FileScore(raw=raw, true_positives=tp, false_negatives=fn, false_positives=int(fp.sum()))


def score_file(
    scores: Sequence[float] | np.ndarray,
    timestamps: Sequence[object] | np.ndarray,
    windows: Iterable[Sequence[object]],
    profile: Profile | str,
    threshold: float,
) -> FileScore:
    """Score one file's anomaly scores at ``threshold`` (see the module docstring).

    Args:
        scores: the detector's anomaly score per record (``N`` finite numbers).
        timestamps: the ``N`` record times, increasing (strings or datetime64).
        windows: ``(start, end)`` timestamp pairs of the file's anomaly windows.
        profile: a :class:`Profile` or the name of one of :data:`PROFILES`.
        threshold: records with ``score >= threshold`` are detections.
    """
    values = _as_scores(scores, "scores")
    times = _to_datetime64(timestamps, "timestamps")
    if times.shape != values.shape:
        raise ValueError(
            f"scores and timestamps must have the same length, got {values.size} and {times.size}."
        )
    index_windows = window_indices(times, windows)
    return _score_indexed(
        values,
        index_windows,
        probation_length(values.size),
        _resolve_profile(profile),
        float(threshold),
    )


def normalized_score(raw: float, null_raw: float, perfect_raw: float) -> float:
    """NAB's normalised score ``100 (raw - null_raw) / (perfect_raw - null_raw)``.

    Args:
        raw: the detector's raw corpus score.
        null_raw: the raw score of the detector that never fires.
        perfect_raw: the raw score of the perfect detector.
    """
    if not perfect_raw > null_raw:
        raise ValueError(
            f"perfect_raw ({perfect_raw}) must exceed null_raw ({null_raw}); does the corpus "
            "have any scored window?"
        )
    return 100.0 * (raw - null_raw) / (perfect_raw - null_raw)


@dataclass(frozen=True, eq=False)
class _RawScoreCurve:
    """The corpus raw score as a step function of the threshold.

    ``levels`` are the distinct anomaly scores of scored records, descending, and
    ``totals[j]`` the raw score when exactly the records scoring ``>= levels[j]`` fire;
    ``base`` is the score when nothing fires.
    """

    levels: np.ndarray
    totals: np.ndarray
    base: float

    def __call__(self, threshold: float) -> float:
        # number of distinct levels >= threshold; levels are descending
        count = int(np.searchsorted(-self.levels, -threshold, side="right"))
        return self.base if count == 0 else float(self.totals[count - 1])


def _raw_score_curve(
    scores: Mapping[str, np.ndarray], corpus: Corpus, profile: Profile
) -> _RawScoreCurve:
    """Sort every scored record by anomaly score (descending); each false positive adds its
    value once, and a window's value steps up whenever a record earlier than all its detections
    so far fires. The cumulative sum of these steps is the raw score at every distinct score."""
    levels: list[np.ndarray] = []
    steps: list[np.ndarray] = []
    base = 0.0
    for f in corpus.files:
        if f.key not in scores:
            raise KeyError(f"scores lack corpus file {f.key!r}.")
        a = _as_scores(scores[f.key], f"scores[{f.key!r}]")
        if a.size != len(f):
            raise ValueError(f"scores[{f.key!r}] has {a.size} records, the corpus {len(f)}.")
        value, window_id = _row_values(a.size, f.windows, profile)
        outside = np.flatnonzero(window_id[f.probation :] < 0) + f.probation
        levels.append(a[outside])
        steps.append(value[outside])
        for left, right in f.windows:
            if right < f.probation:
                continue
            base -= profile.fn_weight
            first = max(left, f.probation)
            a_w, v_w = a[first : right + 1], value[first : right + 1]
            order = np.argsort(-a_w, kind="stable")
            best = np.maximum.accumulate(v_w[order])  # window value once these records fire
            levels.append(a_w[order])
            steps.append(np.diff(best, prepend=-profile.fn_weight))
    level = np.concatenate(levels) if levels else np.empty(0)
    step = np.concatenate(steps) if steps else np.empty(0)
    order = np.argsort(-level, kind="stable")
    level, total = level[order], base + np.cumsum(step[order])
    last = np.flatnonzero(np.append(level[1:] != level[:-1], True))  # end of each level
    return _RawScoreCurve(levels=level[last], totals=total[last], base=base)


def _hill_climb(objective, start: float = 0.5, step: float = 0.1, tolerance: float = 1e-7):
    """NAB's threshold search (its ``twiddle``), a local hill climb on [0, 1].

    From ``x`` try ``x + d``, then ``x - d``; move to the first that beats the best score so
    far and double ``d``, else stay and halve ``d``; stop once ``d <= tolerance``. Thresholds
    outside [0, 1] score ``-inf``. Returns the first evaluated threshold with the best score.
    The arithmetic (``x += d``; ``x -= 2 d``; ``x += d``) follows NAB's, so it visits the
    same thresholds; NAB's stored ones are among them, though NAB broke ties between equally
    scoring thresholds by (Python 2) dict order, so the one returned may differ within the
    tie, by about ``tolerance``, with the same score.
    """
    seen: dict[float, float] = {}

    def f(x: float) -> float:
        if x not in seen:
            seen[x] = objective(x) if 0.0 <= x <= 1.0 else -math.inf
        return seen[x]

    x, delta = start, step
    best = f(x)
    while delta > tolerance:
        x += delta
        score = f(x)
        if score > best:
            best, delta = score, delta * 2
            continue
        x -= 2 * delta
        score = f(x)
        if score > best:
            best, delta = score, delta * 2
            continue
        x += delta
        delta *= 0.5
    top = max(seen.values())
    return next(t for t, v in seen.items() if v == top), top


#: Threshold searches: NAB's local hill climb, or the exact maximum over all distinct scores.
SEARCHES = ("nab", "exact")


def optimize_threshold(
    scores: Mapping[str, np.ndarray],
    corpus: Corpus,
    profile: Profile | str,
    *,
    search: str = "nab",
) -> tuple[float, float]:
    """The threshold maximising the corpus raw score, and that score.

    The raw score is a step function of the threshold that only changes at the distinct
    anomaly scores; one sort of the ``M`` scored records (``O(M log M)``) tabulates it at all
    of them, after which each evaluation is a binary search.

    Args:
        scores: anomaly scores per corpus key, one per record (as from :func:`read_results`).
        corpus: the corpus the scores belong to.
        profile: a :class:`Profile` or the name of one of :data:`PROFILES`.
        search: ``"nab"`` (default) runs NAB's local hill climb from 0.5 over [0, 1], which
            reproduces NAB's published thresholds and scores; it can stop at a local maximum.
            ``"exact"`` takes the global maximum over all distinct scores (highest threshold
            among ties; just above the largest score when detecting nothing is best), which
            is never lower but is not comparable with NAB's scoreboard.
    """
    prof = _resolve_profile(profile)
    if search not in SEARCHES:
        raise ValueError(f"search must be one of {SEARCHES}, got {search!r}.")
    curve = _raw_score_curve(scores, corpus, prof)
    if search == "nab":
        return _hill_climb(curve)
    if curve.levels.size == 0:
        return math.inf, curve.base
    candidates = np.concatenate(([curve.base], curve.totals))
    best = int(np.argmax(candidates))  # first maximum = highest threshold
    if best == 0:
        return float(np.nextafter(curve.levels[0], np.inf)), curve.base
    return float(curve.levels[best - 1]), float(candidates[best])


# --------------------------------------------------------------------------------------------
# Reading the corpus and detector results.


def _read_csv(path: Path, columns: Sequence[str], what: str) -> dict[str, list[str]]:
    """Read the named columns of a CSV file with a header, naming file and line on errors."""
    if not path.is_file():
        raise NABFormatError(f"{what}: file {path} does not exist.")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise NABFormatError(f"{path}: the file is empty; expected a header line.")
        header = [h.strip() for h in header]
        missing = [c for c in columns if c not in header]
        if missing:
            raise NABFormatError(
                f"{path}: missing column(s) {missing} in header {header}; {what} needs "
                f"{list(columns)}."
            )
        where = [header.index(c) for c in columns]
        out: dict[str, list[str]] = {c: [] for c in columns}
        width = max(where) + 1
        for row in reader:
            if not row:
                continue
            if len(row) < width:
                raise NABFormatError(
                    f"{path}, line {reader.line_num}: expected at least {width} fields, got "
                    f"{len(row)}."
                )
            for c, j in zip(columns, where, strict=True):
                out[c].append(row[j])
    return out


def _parse_floats(texts: Sequence[str], path: Path, column: str) -> np.ndarray:
    try:
        array = np.array(texts, dtype=np.float64)
    except ValueError:
        array = None
    if array is None or not np.all(np.isfinite(array)):
        for j, text in enumerate(texts):
            try:
                ok = math.isfinite(float(text))
            except ValueError:
                ok = False
            if not ok:
                raise NABFormatError(
                    f"{path}, line {j + 2}: {column} {text!r} is not a finite number."
                ) from None
    assert array is not None
    return array


def _parse_times(texts: Sequence[str], path: Path) -> np.ndarray:
    try:
        return _to_datetime64(texts, str(path))
    except NABFormatError:
        for j, text in enumerate(texts):
            try:
                _to_datetime64([text], str(path))
            except NABFormatError:
                raise NABFormatError(
                    f"{path}, line {j + 2}: timestamp {text!r} is not 'YYYY-MM-DD HH:MM:SS'."
                ) from None
        raise


def load_corpus(root: str | os.PathLike | None = None) -> Corpus:
    """Read the NAB corpus: every ``data/<category>/<file>.csv`` and its labelled windows.

    Args:
        root: the NAB folder (holding ``data/`` and ``labels/``); by default
            ``dendrix.data.dataset_path("nab")``, which raises
            :class:`dendrix.data.DataNotFoundError` when the data set is absent.
    """
    if root is None:
        from dendrix.data import dataset_path

        root = dataset_path("nab")
    root = Path(root)
    labels_path = root / "labels" / "combined_windows.json"
    if not labels_path.is_file():
        raise NABFormatError(
            f"root: {labels_path} does not exist; root must be a copy of NAB's repository "
            "(data/, labels/)."
        )
    with labels_path.open(encoding="utf-8") as handle:
        labels = json.load(handle)
    if not isinstance(labels, dict) or not labels:
        raise NABFormatError(f"{labels_path}: expected a JSON object mapping files to windows.")
    files = []
    for key in sorted(labels):
        path = root / "data" / key
        table = _read_csv(path, ("timestamp", "value"), f"corpus file {key!r}")
        times = _parse_times(table["timestamp"], path)
        values = _parse_floats(table["value"], path, "value")
        windows = window_indices(times, labels[key], name=f"{labels_path} [{key!r}]")
        files.append(
            CorpusFile(
                key=key,
                timestamps=times,
                values=values,
                windows=windows,
                probation=probation_length(len(times)),
            )
        )
    return Corpus(root=root, files=tuple(files))


def _result_path(results_dir: Path, detector: str, key: str) -> Path:
    category, name = key.split("/", 1)
    return results_dir / category / f"{detector}_{name}"


def infer_detector(results_dir: str | os.PathLike, corpus: Corpus) -> str:
    """The detector name of a NAB results folder, from its ``<detector>_<file>.csv`` names.

    Args:
        results_dir: folder laid out as ``<category>/<detector>_<file>.csv``.
        corpus: the corpus whose file names the results must carry.
    """
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise NABFormatError(f"results_dir {results_dir} is not a directory.")
    names: set[str] = set()
    for f in corpus.files:
        category, name = f.key.split("/", 1)
        folder = results_dir / category
        if folder.is_dir():
            for path in folder.glob(f"*_{name}"):
                names.add(path.name[: -len(name) - 1])
    if len(names) != 1:
        found = "none" if not names else sorted(names)
        raise NABFormatError(
            f"results_dir {results_dir}: cannot infer the detector name from files "
            f"'<category>/<detector>_<file>.csv' (found {found}); pass detector=..."
        )
    return names.pop()


def read_results(
    results_dir: str | os.PathLike, detector: str, corpus: Corpus
) -> dict[str, np.ndarray]:
    """Read a detector's ``anomaly_score`` per corpus file, checked against the corpus.

    Args:
        results_dir: folder laid out as ``<category>/<detector>_<file>.csv``.
        detector: the detector's name (the file-name prefix).
        corpus: the corpus the results must match record for record.
    """
    results_dir = Path(results_dir)
    out: dict[str, np.ndarray] = {}
    for f in corpus.files:
        path = _result_path(results_dir, detector, f.key)
        if not path.is_file():
            raise NABFormatError(
                f"results for {f.key!r} are missing: {path} does not exist. Run detector "
                f"{detector!r} on every corpus file (see write_results)."
            )
        table = _read_csv(path, ("timestamp", "anomaly_score"), f"results of {f.key!r}")
        if len(table["timestamp"]) != len(f):
            raise NABFormatError(
                f"{path}: {len(table['timestamp'])} data rows, but corpus file {f.key!r} has "
                f"{len(f)}; results must have one row per corpus record."
            )
        times = _parse_times(table["timestamp"], path)
        wrong = np.flatnonzero(times != f.timestamps)
        if wrong.size:
            j = int(wrong[0])
            raise NABFormatError(
                f"{path}, line {j + 2}: timestamp {table['timestamp'][j]!r} differs from the "
                f"corpus record {j} ({f.timestamps[j]}); results must follow the corpus file."
            )
        out[f.key] = _parse_floats(table["anomaly_score"], path, "anomaly_score")
    return out


def score_corpus(
    scores: Mapping[str, Sequence[float] | np.ndarray],
    corpus: Corpus,
    *,
    thresholds: Mapping[str, float] | None = None,
    profiles: Iterable[str] | None = None,
    search: str = "nab",
) -> dict[str, ProfileScore]:
    """Score anomaly scores for the whole corpus under each profile.

    Args:
        scores: anomaly scores per corpus key (``"<category>/<file>.csv"``), one per record.
        corpus: the corpus they belong to.
        thresholds: fixed threshold per profile name instead of the optimised one (e.g. NAB's
            ``config/thresholds.json`` values); profiles not named here are optimised.
        profiles: names of the profiles to score (default all of :data:`PROFILES`).
        search: how to optimise thresholds, ``"nab"`` or ``"exact"`` (see
            :func:`optimize_threshold`).
    """
    checked: dict[str, np.ndarray] = {}
    for f in corpus.files:
        if f.key not in scores:
            raise KeyError(f"scores lack corpus file {f.key!r}; give one score per record.")
        checked[f.key] = _as_scores(scores[f.key], f"scores[{f.key!r}]")
        if checked[f.key].size != len(f):
            raise ValueError(
                f"scores[{f.key!r}] has {checked[f.key].size} records, the corpus file {len(f)}."
            )
    names = list(PROFILES) if profiles is None else [_resolve_profile(p).name for p in profiles]
    fixed = {} if thresholds is None else dict(thresholds)
    unknown = sorted(set(fixed) - set(PROFILES))
    if unknown:
        raise ValueError(f"thresholds names unknown profile(s) {unknown}; use {sorted(PROFILES)}.")
    k = corpus.num_windows
    out: dict[str, ProfileScore] = {}
    for name in names:
        prof = PROFILES[name]
        if name in fixed:
            threshold = float(fixed[name])
        else:
            threshold, _ = optimize_threshold(checked, corpus, prof, search=search)
        per_file = {
            f.key: _score_indexed(checked[f.key], f.windows, f.probation, prof, threshold)
            for f in corpus.files
        }
        raw = math.fsum(s.raw for s in per_file.values())
        null_raw, perfect_raw = -prof.fn_weight * k, prof.tp_weight * k
        out[name] = ProfileScore(
            profile=name,
            threshold=threshold,
            raw=raw,
            normalized=normalized_score(raw, null_raw, perfect_raw),
            null_raw=null_raw,
            perfect_raw=perfect_raw,
            true_positives=sum(s.true_positives for s in per_file.values()),
            false_negatives=sum(s.false_negatives for s in per_file.values()),
            false_positives=sum(s.false_positives for s in per_file.values()),
            files=MappingProxyType(per_file),
        )
    return out


def score_detector(
    results_dir: str | os.PathLike,
    detector: str | None = None,
    corpus: Corpus | None = None,
    *,
    thresholds: Mapping[str, float] | None = None,
    profiles: Iterable[str] | None = None,
    search: str = "nab",
) -> dict[str, ProfileScore]:
    """Score a detector's NAB results folder under each profile.

    Args:
        results_dir: folder laid out as ``<category>/<detector>_<file>.csv`` (NAB's
            ``results/<detector>``), each with ``timestamp`` and ``anomaly_score`` columns.
        detector: the file-name prefix; inferred from the file names when ``None``.
        corpus: the corpus (default :func:`load_corpus` ``()``).
        thresholds: fixed threshold per profile name instead of the optimised one (e.g. NAB's
            ``config/thresholds.json`` values); profiles not named here are optimised.
        profiles: names of the profiles to score (default all of :data:`PROFILES`).
        search: how to optimise thresholds, ``"nab"`` or ``"exact"`` (see
            :func:`optimize_threshold`).
    """
    corpus = load_corpus() if corpus is None else corpus
    if detector is None:
        detector = infer_detector(results_dir, corpus)
    scores = read_results(results_dir, detector, corpus)
    return score_corpus(scores, corpus, thresholds=thresholds, profiles=profiles, search=search)


# --------------------------------------------------------------------------------------------
# Writing results.

_DETECTOR_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")


def write_results(
    out_dir: str | os.PathLike,
    detector: str,
    file_key: str,
    timestamps: Sequence[object] | np.ndarray,
    values: Sequence[float] | np.ndarray,
    anomaly_scores: Sequence[float] | np.ndarray,
) -> Path:
    """Write one file's detector output in NAB's layout, atomically; returns its path.

    The file is ``<out_dir>/<category>/<detector>_<file>.csv`` with columns
    ``timestamp,value,anomaly_score``, which :func:`score_detector` ``(out_dir)`` reads.

    Args:
        out_dir: the detector's results folder (NAB's ``results/<detector>``).
        detector: detector name: letters, digits, ``.``, ``_`` and ``-``.
        file_key: corpus key ``"<category>/<file>.csv"``.
        timestamps: the corpus file's record times (strings or datetime64).
        values: the corpus file's record values.
        anomaly_scores: the detector's score per record (finite numbers).
    """
    from dendrix._io import atomic_write  # imported here: scoring needs no torch

    if not isinstance(detector, str) or not _DETECTOR_NAME.match(detector):
        raise ValueError(
            f"detector must be a name of letters, digits, '.', '_' and '-', got {detector!r}."
        )
    parts = file_key.split("/") if isinstance(file_key, str) else []
    if len(parts) != 2 or not all(parts) or not parts[1].endswith(".csv") or ".." in parts:
        raise ValueError(
            f"file_key must be a corpus key '<category>/<file>.csv', got {file_key!r}."
        )
    times = _to_datetime64(timestamps, "timestamps")
    vals = np.asarray(values, dtype=np.float64)
    scores = _as_scores(anomaly_scores, "anomaly_scores")
    if not times.ndim == vals.ndim == 1 or not times.size == vals.size == scores.size:
        raise ValueError(
            "timestamps, values and anomaly_scores must be 1-D of one length, got shapes "
            f"{times.shape}, {vals.shape} and {scores.shape}."
        )
    stamps = np.datetime_as_string(times, unit="s")
    path = _result_path(Path(out_dir), detector, file_key)

    def write(tmp: Path) -> None:
        with tmp.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(["timestamp", "value", "anomaly_score"])
            for stamp, value, score in zip(stamps, vals.tolist(), scores.tolist(), strict=True):
                writer.writerow([stamp.replace("T", " "), repr(value), repr(score)])

    return atomic_write(path, write)
