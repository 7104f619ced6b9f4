"""Atomic file writes and run provenance (git commit, machine description)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = [
    "atomic_write",
    "atomic_write_json",
    "git_commit",
    "load_state",
    "machine_description",
    "save_state",
]

_MANIFEST = "__manifest__"


def atomic_write(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` then rename the temporary file onto ``path``.

    Readers never see a half-written file: the rename is atomic on one file system, and a
    failed ``write`` leaves any earlier ``path`` untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return path


def atomic_write_json(path: str | os.PathLike, obj: object) -> Path:
    text = json.dumps(obj, indent=2, sort_keys=False, allow_nan=False) + "\n"
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def git_commit(repo: Path | None) -> str | None:
    """``HEAD`` of the checkout at ``repo``, suffixed ``-dirty`` when tracked files differ."""
    if repo is None:
        return None
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "diff", "--quiet", "HEAD", "--", "src"], cwd=repo, capture_output=True
        ).returncode
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("-dirty" if dirty else "")


def machine_description() -> str:
    """One line: OS, CPU count, Python, torch, and the GPU if one is used."""
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, torch {torch.__version__}, {gpu}"
    )


def _split(obj: Any, arrays: dict[str, np.ndarray], path: str) -> Any:
    """JSON skeleton of ``obj`` with every array replaced by a reference into ``arrays``."""
    if isinstance(obj, np.ndarray):
        key = f"a{len(arrays)}"
        arrays[key] = obj
        return {"__array__": key}
    if isinstance(obj, torch.Tensor):
        raise TypeError(f"{path}: convert tensors to numpy before save_state.")
    if isinstance(obj, dict):
        if not all(isinstance(k, str) for k in obj):
            raise TypeError(f"{path}: dictionary keys must be strings to be saved.")
        if "__array__" in obj or "__tuple__" in obj:
            raise ValueError(f"{path}: the keys '__array__'/'__tuple__' are reserved.")
        return {k: _split(v, arrays, f"{path}.{k}") for k, v in obj.items()}
    if isinstance(obj, tuple):
        return {"__tuple__": [_split(v, arrays, f"{path}[{i}]") for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_split(v, arrays, f"{path}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, np.generic):
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"{path}: cannot save a {type(obj).__name__}; use plain data and arrays.")


def _join(obj: Any, arrays: Any) -> Any:
    if isinstance(obj, dict):
        if set(obj) == {"__array__"}:
            return arrays[obj["__array__"]]
        if set(obj) == {"__tuple__"}:
            return tuple(_join(v, arrays) for v in obj["__tuple__"])
        return {k: _join(v, arrays) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_join(v, arrays) for v in obj]
    return obj


def save_state(path: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Save nested plain data with NumPy arrays to one ``.npz`` file, atomically.

    Arrays are stored natively (exact dtype and bits); everything else goes to a JSON
    manifest inside the same file, so loading needs no pickle. Tuples come back as tuples.
    """
    arrays: dict[str, np.ndarray] = {}
    skeleton = _split(state, arrays, "state")
    manifest = json.dumps(skeleton, allow_nan=True).encode("utf-8")
    payload = {**arrays, _MANIFEST: np.frombuffer(manifest, dtype=np.uint8)}

    def write(tmp: Path) -> None:
        with tmp.open("wb") as fh:
            np.savez(fh, **payload)

    return atomic_write(path, write)


def load_state(path: str | os.PathLike) -> dict[str, Any]:
    """Load what :func:`save_state` wrote (no pickle is ever executed)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"state file {path} does not exist.")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError) as err:
        raise ValueError(f"{path} is not a dendrix state file ({err}).") from None
    if _MANIFEST not in arrays:
        raise ValueError(f"{path} is not a dendrix state file (no manifest).")
    skeleton = json.loads(arrays.pop(_MANIFEST).tobytes().decode("utf-8"))
    return _join(skeleton, arrays)
