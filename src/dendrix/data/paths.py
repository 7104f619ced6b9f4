"""Where dendrix finds its data sets; nothing is ever downloaded at run time.

The data root is, in order of preference:

1. the directory named by the environment variable ``DENDRIX_DATA``;
2. ``<repository root>/../shared/data`` when that directory exists (the layout of a
   development checkout, where the shared corpus sits beside the repository);
3. the user cache directory ``$XDG_CACHE_HOME/dendrix/data`` (default
   ``~/.cache/dendrix/data``), where users place the files by hand.

A data set is a sub-directory of the root (``mnist``, ``fashion-mnist``, ``nab``,
``nmnist-small``). Asking for a missing one raises :class:`DataNotFoundError`, whose message
lists every place that was searched and how to obtain the files.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DataNotFoundError", "data_root", "dataset_path", "repository_root"]

ENV_VAR = "DENDRIX_DATA"

#: Where each known data set comes from, quoted in the error when it is missing.
SOURCES = {
    "mnist": "MNIST idx files (train/t10k images and labels, .gz) from "
    "http://yann.lecun.com/exdb/mnist/ or any mirror",
    "fashion-mnist": "Fashion-MNIST idx files (.gz) from "
    "https://github.com/zalandoresearch/fashion-mnist",
    "nab": "the Numenta Anomaly Benchmark repository (data/, labels/, results/, config/) from "
    "https://github.com/numenta/NAB",
    "nmnist-small": "N-MNIST .bs2 event files from https://www.garrickorchard.com/datasets/n-mnist",
}


class DataNotFoundError(FileNotFoundError):
    """A data set is not where dendrix looked; the message says where it looked."""


def repository_root() -> Path | None:
    """The source checkout this package was imported from, or ``None`` for a wheel install.

    A checkout is recognised by a ``pyproject.toml`` two levels above ``src/dendrix``.
    """
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").is_file() and (parent / "src" / "dendrix").is_dir():
            return parent
    return None


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dendrix" / "data"


def _candidates() -> list[tuple[str, Path]]:
    out: list[tuple[str, Path]] = []
    env = os.environ.get(ENV_VAR)
    if env:
        out.append((f"${ENV_VAR}", Path(env).expanduser()))
    repo = repository_root()
    if repo is not None:
        out.append(("repository ../shared/data", repo.parent / "shared" / "data"))
    out.append(("user cache", _cache_dir()))
    return out


def data_root() -> Path:
    """The first existing data root of the search order above.

    ``DENDRIX_DATA``, when set, is authoritative: if it does not exist the error says so
    rather than silently falling back to another root.
    """
    candidates = _candidates()
    env = os.environ.get(ENV_VAR)
    if env:
        path = candidates[0][1]
        if not path.is_dir():
            raise DataNotFoundError(
                f"${ENV_VAR} is set to {env!r}, which is not a directory. Point it at the "
                "folder that holds the data sets (mnist/, nab/, ...) or unset it."
            )
        return path
    for _, path in candidates:
        if path.is_dir():
            return path
    raise DataNotFoundError(_missing_message(None, candidates))


def dataset_path(name: str) -> Path:
    """Directory of data set ``name`` under the data root, checked to exist.

    Raises:
        DataNotFoundError: listing every location searched and where to get the files.
    """
    if not isinstance(name, str) or not name or "/" in name or name.startswith("."):
        raise ValueError(f"name must be a data-set folder name such as 'mnist', got {name!r}.")
    candidates = _candidates()
    if os.environ.get(ENV_VAR):
        candidates = candidates[:1]  # an explicit root is never second-guessed
    for _, root in candidates:
        if (root / name).is_dir():
            return root / name
    raise DataNotFoundError(_missing_message(name, candidates))


def _missing_message(name: str | None, candidates: list[tuple[str, Path]]) -> str:
    what = f"data set {name!r}" if name else "a data root"
    looked = "\n".join(
        f"  - {label}: {path / name if name else path}" for label, path in candidates
    )
    source = SOURCES.get(name or "", "the files from the data set's publisher")
    return (
        f"Could not find {what}. Looked in:\n{looked}\n"
        f"Obtain {source}, place it in one of these folders (as {name or '<name>'}/), or set "
        f"{ENV_VAR} to the folder that contains it. dendrix never downloads at run time."
    )
