"""Recipes: one paper's headline result, reproduced by ``run(config) -> Result``.

A recipe is a frozen config dataclass (with a ``seed`` field) plus a function that runs it
and returns a :class:`Result`: metrics, claims (paper figure next to our measurement) and
matplotlib figures. :func:`run_recipe` adds provenance (git commit, seed, data files, wall
time, machine) and writes one JSON file per recipe in the shared schema::

    {"name", "quick": bool, "metrics": {metric: value},
     "claims": [{"metric", "paper", "measured", "unit", "source", "status"}],
     "figures": [paths relative to the results directory],
     "provenance": {"commit", "seed", "data", "wall_time_s", "machine"}}

Full runs write ``<out>/<name>.json`` and figures under ``<out>/figures/``; quick runs
(``--quick``, minutes on 2 CPU cores) write the same under ``<out>/quick/``. Each directory
gets a ``REPORT.md`` summarising every result file in it, with the figures embedded.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from dendrix._io import atomic_write, atomic_write_json, git_commit, machine_description
from dendrix.data.paths import repository_root
from dendrix.registry import Registry

__all__ = [
    "RECIPES",
    "Claim",
    "Recipe",
    "Result",
    "register_recipe",
    "result_path",
    "run_recipe",
    "update_readme",
    "write_report",
]


@dataclass(frozen=True)
class Claim:
    """A published figure next to our measurement of the same quantity.

    Attributes:
        metric: name of the measured quantity (a key of ``Result.metrics``).
        paper: the published value.
        measured: our value.
        unit: unit of both values ("" when dimensionless, "%" for accuracies).
        source: where the published value comes from (paper, table/figure).
        compare: how ``measured`` is judged against ``paper``: ``"match"`` (relative error
            at most ``rel_tol``), ``"at_least"`` (higher is better) or ``"at_most"``.
        rel_tol: relative tolerance for ``"match"`` and slack for the other two.
    """

    metric: str
    paper: float
    measured: float
    unit: str = ""
    source: str = ""
    compare: Literal["match", "at_least", "at_most"] = "match"
    rel_tol: float = 0.01

    @property
    def status(self) -> str:
        """``reproduced`` or a sentence saying by how much it falls short."""
        p, m = float(self.paper), float(self.measured)
        if not math.isfinite(m):
            return "not measured"
        err = abs(m - p) / abs(p) if p else abs(m)
        if self.compare == "match":
            ok = err <= self.rel_tol
            gap = f"off by {100 * err:.2g} %"
        elif self.compare == "at_least":
            ok = m >= p * (1 - self.rel_tol)
            gap = f"short by {p - m:.4g}{self.unit and ' ' + self.unit}"
        else:
            ok = m <= p * (1 + self.rel_tol)
            gap = f"over by {m - p:.4g}{self.unit and ' ' + self.unit}"
        return "reproduced" if ok else gap

    def to_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "paper": self.paper,
            "measured": self.measured,
            "unit": self.unit,
            "source": self.source,
            "status": self.status,
        }


@dataclass
class Result:
    """What a recipe's ``run`` returns.

    Attributes:
        metrics: every measured quantity, by name (finite floats or ints).
        claims: the paper's figures next to ours.
        figures: ``matplotlib.figure.Figure`` objects by short name (build them with
            ``Figure()``, not pyplot, so no display is needed); :func:`run_recipe` saves them
            as PNG.
        data: data files read, relative to the data root (provenance).
        notes: what a reader must know to interpret the numbers (budget, deviations).
    """

    metrics: dict[str, float]
    claims: list[Claim] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    data: list[str] = field(default_factory=list)
    notes: str = ""


@dataclass(frozen=True)
class Recipe:
    """A registered reproduction: its config type, full and quick configs, and ``run``."""

    name: str
    run: Callable[[Any], Result]
    config: Any
    quick: Any
    title: str
    paper: str

    def config_for(self, quick: bool) -> Any:
        return self.quick if quick else self.config


#: Every recipe, by name; ``dendrix reproduce`` and the tests iterate over it.
RECIPES: Registry[Recipe] = Registry("recipe")


def register_recipe(
    name: str, *, config: Any, quick: Any, title: str, paper: str
) -> Callable[[Callable[[Any], Result]], Callable[[Any], Result]]:
    """Register ``run`` as recipe ``name`` with its full-scale and quick configs.

    Both configs must be instances of the same frozen dataclass with a ``seed`` field.
    """
    for label, cfg in (("config", config), ("quick", quick)):
        if not dataclasses.is_dataclass(cfg) or isinstance(cfg, type):
            raise TypeError(f"{label} of recipe {name!r} must be a dataclass instance.")
        if not type(cfg).__dataclass_params__.frozen:  # type: ignore[attr-defined]
            raise TypeError(f"{label} of recipe {name!r} must be a frozen dataclass.")
        if not hasattr(cfg, "seed"):
            raise TypeError(f"{label} of recipe {name!r} needs a 'seed' field.")
    if type(config) is not type(quick):
        raise TypeError(f"config and quick of recipe {name!r} must share one config class.")

    def decorate(run: Callable[[Any], Result]) -> Callable[[Any], Result]:
        RECIPES.add(name, Recipe(name, run, config, quick, title, paper))
        return run

    return decorate


def result_path(out_dir: Path, name: str, quick: bool) -> Path:
    """Where the JSON result of recipe ``name`` lives."""
    return (Path(out_dir) / "quick" if quick else Path(out_dir)) / f"{name}.json"


def _check_metrics(name: str, metrics: Mapping[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in metrics.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"recipe {name!r}: metric {key!r} must be a number, got {value!r}.")
        if not math.isfinite(value):
            raise ValueError(f"recipe {name!r}: metric {key!r} is not finite ({value}).")
        out[key] = value
    return out


def run_recipe(
    name: str,
    *,
    quick: bool = False,
    out_dir: str | Path = "results",
    config: Any = None,
    report: bool = True,
) -> dict[str, Any]:
    """Run recipe ``name``, write its JSON result and figures, return the JSON record.

    Args:
        quick: run the quick config (and write under ``<out_dir>/quick``).
        out_dir: results directory.
        config: override the registered config (same class); its ``seed`` is recorded.
        report: regenerate ``REPORT.md`` in the output directory afterwards.
    """
    recipe = RECIPES[name]
    cfg = recipe.config_for(quick) if config is None else config
    if type(cfg) is not type(recipe.config):
        raise TypeError(
            f"config must be a {type(recipe.config).__name__} for recipe {name!r}, got "
            f"{type(cfg).__name__}."
        )
    start = time.perf_counter()
    result = recipe.run(cfg)
    wall = time.perf_counter() - start
    if not isinstance(result, Result):
        raise TypeError(f"recipe {name!r} returned {type(result).__name__}, not a Result.")

    json_path = result_path(Path(out_dir), name, quick)
    base = json_path.parent
    figures = []
    for key, fig in result.figures.items():
        rel = Path("figures") / f"{name}-{key}.png"
        atomic_write(base / rel, lambda p, fig=fig: fig.savefig(p, format="png", dpi=120))
        figures.append(rel.as_posix())

    record = {
        "name": name,
        "quick": bool(quick),
        "title": recipe.title,
        "paper": recipe.paper,
        "metrics": _check_metrics(name, result.metrics),
        "claims": [c.to_json() for c in result.claims],
        "figures": figures,
        "notes": result.notes,
        "config": dataclasses.asdict(cfg),
        "provenance": {
            "commit": git_commit(repository_root()),
            "seed": cfg.seed,
            "data": list(result.data),
            "wall_time_s": round(wall, 3),
            "machine": machine_description(),
        },
    }
    record = json.loads(json.dumps(record, allow_nan=False))  # return exactly what is written
    atomic_write_json(json_path, record)
    if report:
        write_report(base)
    return record


def _fmt(value: Any) -> str:
    """Four significant digits, without switching to exponents for large values (a mean noise
    score of 102871.7 reads 102872, not 1.029e+05)."""
    if isinstance(value, float):
        if 1e4 <= abs(value) < 1e15:
            return f"{value:.0f}"
        return f"{value:.4g}"
    return str(value)


def claims_table(records: Sequence[Mapping[str, Any]]) -> list[tuple[str, str, str, str, str]]:
    """Rows "recipe | metric | paper claim | measured | status" for the given records."""
    rows = []
    for rec in records:
        for c in rec["claims"]:
            unit = f" {c['unit']}" if c["unit"] else ""
            rows.append(
                (
                    rec["name"],
                    c["metric"],
                    _fmt(c["paper"]) + unit,
                    _fmt(c["measured"]) + unit,
                    c["status"],
                )
            )
    return rows


def load_results(directory: str | Path) -> list[dict[str, Any]]:
    """Every result record in ``directory`` (not recursive), sorted by recipe name."""
    records = []
    for path in sorted(Path(directory).glob("*.json")):
        with path.open(encoding="utf-8") as fh:
            rec = json.load(fh)
        if isinstance(rec, dict) and {"name", "claims", "provenance"} <= rec.keys():
            records.append(rec)
    return records


README_START = "<!-- results:start (generated by `dendrix reproduce --update-readme`) -->"
README_END = "<!-- results:end -->"


def results_markdown(records: Sequence[Mapping[str, Any]]) -> str:
    """The claims of ``records`` as a Markdown table (the README's results section)."""
    lines = [
        "| recipe | metric | paper claim | measured | status |",
        "|---|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in claims_table(records)]
    return "\n".join(lines)


def update_readme(readme: str | Path, directory: str | Path) -> Path:
    """Replace the results section of ``readme`` with the claims of the results in
    ``directory``; the section lies between :data:`README_START` and :data:`README_END`."""
    readme = Path(readme)
    text = readme.read_text(encoding="utf-8")
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        raise ValueError(
            f"readme {readme} has no results section; add the lines {README_START!r} and "
            f"{README_END!r} where the table should go."
        )
    table = results_markdown(load_results(directory))
    new = text[: start + len(README_START)] + "\n" + table + "\n" + text[end:]
    return atomic_write(readme, lambda p: p.write_text(new, encoding="utf-8"))


def write_report(directory: str | Path) -> Path:
    """Write ``REPORT.md`` in ``directory`` from every result record there."""
    directory = Path(directory)
    records = load_results(directory)
    quick = any(r.get("quick") for r in records)
    lines = [
        "# dendrix reproduction report" + (" (quick runs)" if quick else ""),
        "",
        "Generated by `dendrix reproduce` from the JSON files in this folder; do not edit.",
        "",
        results_markdown(records),
    ]
    for rec in records:
        prov = rec["provenance"]
        lines += [
            "",
            f"## {rec['name']}: {rec.get('title', '')}",
            "",
            f"Paper: {rec.get('paper', '')}",
            "",
            f"Seed {prov['seed']}, commit `{prov['commit']}`, {prov['wall_time_s']} s on "
            f"{prov['machine']}." + (f" Data: {', '.join(prov['data'])}." if prov["data"] else ""),
        ]
        if rec.get("notes"):
            lines += ["", rec["notes"]]
        lines += ["", "| metric | value |", "|---|---|"]
        lines += [f"| {k} | {_fmt(v)} |" for k, v in rec["metrics"].items()]
        for fig in rec.get("figures", []):
            lines += ["", f"![{Path(fig).stem}]({fig})"]
    text = "\n".join(lines) + "\n"
    return atomic_write(directory / "REPORT.md", lambda p: p.write_text(text, encoding="utf-8"))
