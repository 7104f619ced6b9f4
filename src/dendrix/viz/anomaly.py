"""Plot of a time series with its anomaly scores."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

__all__ = ["anomaly_figure"]


def anomaly_figure(
    timestamps: Sequence,
    values: np.ndarray,
    raw: np.ndarray,
    score: np.ndarray,
    *,
    threshold: float = 0.5,
    title: str = "",
) -> Figure:
    """The series on top (records scoring at least ``threshold`` marked), the raw anomaly and
    the reported score (log-likelihood) below.

    Args:
        timestamps: ``[N]`` datetimes (or numbers) for the x axis.
        values: ``[N]`` series.
        raw: ``[N]`` raw anomaly scores in [0, 1].
        score: ``[N]`` reported scores in [0, 1].
        threshold: score at which a record is marked as an anomaly.
    """
    x = np.asarray(timestamps)
    flagged = np.asarray(score) >= threshold
    fig = Figure(figsize=(11, 5.5), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    top.plot(x, values, lw=0.6, color="0.25")
    top.scatter(
        x[flagged],
        np.asarray(values)[flagged],
        s=14,
        color="crimson",
        zorder=3,
        label=f"score >= {threshold:g} ({int(flagged.sum())} records)",
    )
    top.set(ylabel="value", title=title)
    top.legend(loc="upper right", fontsize=8)
    bottom.plot(x, raw, lw=0.4, color="0.7", label="raw anomaly")
    bottom.plot(x, score, lw=0.8, color="crimson", label="log-likelihood score")
    bottom.axhline(threshold, color="k", lw=0.6, ls="--")
    bottom.set(ylabel="score", ylim=(-0.05, 1.05))
    bottom.legend(loc="upper right", fontsize=8)
    return fig
