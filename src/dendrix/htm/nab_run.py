"""Run the HTM detector over the NAB corpus, one process per core, and score it.

Each corpus file is an independent stream with its own detector (NAB's rules: a detector may
know the file's value range and length in advance, nothing else). Files are processed
largest first over a process pool (``concurrent.futures``; the files are independent, so a
cluster engine such as Ray or Dask could take the same tasks); each finished file is written
at once in NAB's layout ``<out>/<detector>/<category>/<detector>_<file>.csv``, so an
interrupted run resumes where it stopped: files whose complete output already exists are not
run again.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np

from dendrix._validation import check_choice
from dendrix.htm import nab
from dendrix.htm.anomaly import AnomalyLikelihoodConfig
from dendrix.htm.detector import TEMPORAL_MEMORIES, HTMDetector, HTMDetectorConfig

__all__ = ["DETECTOR_NAME", "detector_name", "run_corpus"]

#: Detector name used in result file names (the default, backtracking temporal memory).
DETECTOR_NAME = "dendrix_htm"


def detector_name(temporal_memory: str = "backtracking") -> str:
    """Result-file name of the detector with this temporal memory: ``dendrix_htm`` (NuPIC's
    backtracking memory, like NAB's ``numenta``) or ``dendrix_htmTM`` (htm.core's, like NAB's
    ``numentaTM``)."""
    check_choice("temporal_memory", temporal_memory, TEMPORAL_MEMORIES)
    return DETECTOR_NAME if temporal_memory == "backtracking" else "dendrix_htmTM"


def _complete(path: Path, rows: int) -> bool:
    if not path.is_file():
        return False
    with path.open() as fh:
        return sum(1 for _ in fh) == rows + 1


def _run_file(
    root: str, key: str, out_dir: str, detector: str, overrides: dict[str, Any]
) -> tuple[str, float, int]:
    """Worker: run one corpus file and write its results; returns (key, seconds, rows)."""
    start = time.perf_counter()
    corpus_file = nab.load_corpus(root)[key]
    values = corpus_file.values
    stamps = corpus_file.timestamps.astype("datetime64[us]").tolist()
    det = HTMDetector(
        HTMDetectorConfig.for_values(values, **overrides),
        AnomalyLikelihoodConfig.nab(values.size),
    )
    scores = det.run(stamps, values)["score"]
    nab.write_results(
        Path(out_dir) / detector, detector, key, corpus_file.timestamps, values, scores
    )
    return key, time.perf_counter() - start, int(values.size)


def run_corpus(
    out_dir: str | os.PathLike,
    *,
    corpus: nab.Corpus | None = None,
    files: Sequence[str] | None = None,
    workers: int | None = None,
    detector: str = DETECTOR_NAME,
    overrides: dict[str, Any] | None = None,
    progress: Callable[[str, float, int], None] | None = None,
) -> dict[str, Any]:
    """Run the detector on corpus files (all by default) and write NAB-layout results.

    Args:
        out_dir: results root; files go to ``<out_dir>/<detector>/<category>/...``.
        corpus: the loaded corpus (default: :func:`dendrix.htm.nab.load_corpus`).
        files: corpus keys such as ``"realKnownCause/nyc_taxi.csv"`` (default: all 58).
        workers: processes (default: the machine's CPU count).
        overrides: :class:`HTMDetectorConfig` fields to change (e.g. ``{"seed": 3}``); value
            ranges always come from each file.
        progress: called as ``progress(key, seconds, rows)`` when a file finishes.

    Returns:
        ``{"ran": [...], "resumed": [...], "seconds": {key: s}, "records": N}``.
    """
    corpus = corpus if corpus is not None else nab.load_corpus()
    keys = list(files) if files is not None else list(corpus.keys)
    unknown = [k for k in keys if k not in corpus.keys]
    if unknown:
        raise ValueError(f"files {unknown} are not in the NAB corpus; see corpus.keys.")
    overrides = dict(overrides or {})
    fields = {f.name for f in dataclasses.fields(HTMDetectorConfig)}
    bad = sorted(set(overrides) - fields)
    if bad or {"value_min", "value_max"} & set(overrides):
        raise ValueError(
            f"overrides {bad or ['value_min/value_max']} cannot be set; choose among the "
            "HTMDetectorConfig fields other than the value range."
        )
    out = Path(out_dir)
    todo, resumed = [], []
    for key in keys:
        if _complete(nab._result_path(out / detector, detector, key), len(corpus[key])):
            resumed.append(key)
        else:
            todo.append(key)
    todo.sort(key=lambda k: -len(corpus[k]))  # largest first balances the pool
    seconds: dict[str, float] = {}
    workers = max(1, min(workers or os.cpu_count() or 1, len(todo) or 1))
    if todo:
        # spawn, not fork: a child forked after torch has started its thread pools can hang
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            jobs = [
                pool.submit(_run_file, str(corpus.root), k, str(out), detector, overrides)
                for k in todo
            ]
            for job in as_completed(jobs):
                key, secs, rows = job.result()
                seconds[key] = secs
                if progress is not None:
                    progress(key, secs, rows)
    return {
        "ran": sorted(seconds),
        "resumed": resumed,
        "seconds": seconds,
        "records": int(np.sum([len(corpus[k]) for k in keys])),
    }
