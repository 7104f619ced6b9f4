"""Figures built as ``matplotlib.figure.Figure`` objects (no pyplot, no display needed)."""

from dendrix.viz.anomaly import anomaly_figure
from dendrix.viz.spikes import membrane_plot, raster_plot, rate_histogram

__all__ = ["anomaly_figure", "membrane_plot", "raster_plot", "rate_histogram"]
