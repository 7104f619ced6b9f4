"""The recipe machinery: claim status, registration checks, result files and report."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from matplotlib.figure import Figure

from dendrix.recipes import base
from dendrix.recipes.base import Claim, Result, register_recipe, run_recipe
from dendrix.registry import Registry


@dataclass(frozen=True)
class ToyConfig:
    seed: int = 7
    value: float = 1.5
    fail: bool = False


@dataclass
class MutableConfig:
    seed: int = 0


@pytest.fixture
def registry(monkeypatch):
    """A private recipe registry holding one toy recipe."""
    reg = Registry("recipe")
    monkeypatch.setattr(base, "RECIPES", reg)

    @register_recipe("toy", config=ToyConfig(), quick=ToyConfig(value=0.5), title="T", paper="P")
    def run(config: ToyConfig) -> Result:
        if config.fail:
            raise RuntimeError("recipe failed")
        fig = Figure()
        fig.add_subplot().plot([0, 1], [0, config.value])
        return Result(
            metrics={"value": config.value, "count": 3},
            claims=[Claim("value", 1.5, config.value, unit="%", source="Toy 2024")],
            figures={"line": fig},
            data=["toy/file.csv"],
            notes="toy notes",
        )

    return reg


@pytest.mark.parametrize(
    ("claim", "status"),
    [
        (Claim("m", 100.0, 100.5), "reproduced"),
        (Claim("m", 100.0, 102.0), "off by 2 %"),
        (Claim("m", 97.2, 97.0, unit="%", compare="at_least", rel_tol=0.0), "short by 0.2 %"),
        (Claim("m", 97.2, 98.0, compare="at_least", rel_tol=0.0), "reproduced"),
        (Claim("m", 4.0, 3.0, compare="at_most", rel_tol=0.0), "reproduced"),
        (Claim("m", 4.0, 5.0, compare="at_most", rel_tol=0.0), "over by 1"),
        (Claim("m", 1.0, float("nan")), "not measured"),
    ],
)
def test_claim_status_compares_measured_with_paper(claim, status):
    assert claim.status == status


def test_result_file_follows_the_shared_schema(registry, tmp_path):
    run_recipe("toy", out_dir=tmp_path)
    rec = json.loads((tmp_path / "toy.json").read_text())
    assert set(rec) >= {"name", "quick", "metrics", "claims", "provenance"}
    assert rec["name"] == "toy" and rec["quick"] is False
    assert rec["metrics"] == {"value": 1.5, "count": 3}
    assert rec["claims"] == [
        {
            "metric": "value",
            "paper": 1.5,
            "measured": 1.5,
            "unit": "%",
            "source": "Toy 2024",
            "status": "reproduced",
        }
    ]
    prov = rec["provenance"]
    assert set(prov) == {"commit", "seed", "data", "wall_time_s", "machine"}
    assert prov["seed"] == 7 and prov["data"] == ["toy/file.csv"]
    assert prov["wall_time_s"] >= 0 and "torch" in prov["machine"]


def test_quick_runs_write_under_quick_with_the_quick_config(registry, tmp_path):
    run_recipe("toy", quick=True, out_dir=tmp_path)
    rec = json.loads((tmp_path / "quick" / "toy.json").read_text())
    assert rec["quick"] is True and rec["metrics"]["value"] == 0.5
    assert not (tmp_path / "toy.json").exists()


def test_figures_are_written_as_png_and_embedded_in_the_report(registry, tmp_path):
    rec = run_recipe("toy", out_dir=tmp_path)
    assert rec["figures"] == ["figures/toy-line.png"]
    assert (tmp_path / "figures" / "toy-line.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (tmp_path / "REPORT.md").read_text()
    assert "![toy-line](figures/toy-line.png)" in report
    assert "| toy | value | 1.5 % | 1.5 % | reproduced |" in report
    assert "toy notes" in report


def test_a_failing_recipe_leaves_the_earlier_result_untouched(registry, tmp_path):
    run_recipe("toy", out_dir=tmp_path)
    before = (tmp_path / "toy.json").read_bytes()
    with pytest.raises(RuntimeError, match="recipe failed"):
        run_recipe("toy", out_dir=tmp_path, config=ToyConfig(fail=True))
    assert (tmp_path / "toy.json").read_bytes() == before
    assert not list(tmp_path.glob(".*tmp"))


def test_config_override_must_be_the_recipes_config_class(registry, tmp_path):
    with pytest.raises(TypeError, match="ToyConfig"):
        run_recipe("toy", out_dir=tmp_path, config=MutableConfig())


def test_non_finite_metrics_are_refused(registry, tmp_path):
    @register_recipe("bad", config=ToyConfig(), quick=ToyConfig(), title="B", paper="P")
    def run(config):
        return Result(metrics={"loss": float("inf")})

    with pytest.raises(ValueError, match="'loss' is not finite"):
        run_recipe("bad", out_dir=tmp_path)
    assert not (tmp_path / "bad.json").exists()


@pytest.mark.parametrize(
    ("config", "quick", "match"),
    [
        (MutableConfig(), MutableConfig(), "frozen"),
        (ToyConfig, ToyConfig(), "instance"),
        (ToyConfig(), object(), "dataclass"),
    ],
)
def test_recipe_configs_must_be_frozen_dataclass_instances(registry, config, quick, match):
    with pytest.raises(TypeError, match=match):
        register_recipe("x", config=config, quick=quick, title="", paper="")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (102871.67, "102872"),
        (98.857, "98.86"),
        (0.012345, "0.01235"),
        (3, "3"),
        (2.5e16, "2.5e+16"),
    ],
)
def test_report_values_keep_four_digits_and_large_ones_stay_plain(value, text):
    from dendrix.recipes.base import _fmt

    assert _fmt(value) == text
