"""Data sets: one data-root resolver and readers for the shipped formats."""

from dendrix.data.paths import DataNotFoundError, data_root, dataset_path, repository_root

__all__ = ["DataNotFoundError", "data_root", "dataset_path", "repository_root"]
