"""Figures built as ``matplotlib.figure.Figure`` objects (no pyplot, no display needed)."""

from dendrix.viz.anomaly import anomaly_figure

__all__ = ["anomaly_figure"]
