"""The `dendrix` command line."""

from __future__ import annotations

import json

import pytest

from dendrix import __version__
from dendrix.cli import main


def test_version_flag_prints_the_package_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"dendrix {__version__}"


@pytest.mark.parametrize("command", [[], ["reproduce"], ["theory"], ["list"], ["detect"], ["nab"]])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([*command, "--help"])
    assert info.value.code == 0
    assert "usage: dendrix" in capsys.readouterr().out


def test_list_names_the_registered_recipes(capsys):
    assert main(["list"]) == 0
    assert "sdr-theory" in capsys.readouterr().out


def test_unknown_recipe_is_an_error_listing_the_available_ones(capsys, tmp_path):
    assert main(["reproduce", "no-such-recipe", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no-such-recipe" in err and "sdr-theory" in err
    assert not list(tmp_path.iterdir())


def test_reproduce_quick_prints_the_claims_table_and_writes_results(capsys, tmp_path):
    assert main(["reproduce", "kwinners-boosting", "--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "paper claim" in out and "min_duty_ratio_beta20" in out
    assert (tmp_path / "quick" / "kwinners-boosting.json").is_file()
    assert "kwinners-boosting" in (tmp_path / "quick" / "REPORT.md").read_text()
    assert list((tmp_path / "quick" / "figures").glob("kwinners-boosting-*.png"))


def test_reproduce_json_prints_machine_readable_records(capsys, tmp_path):
    args = ["reproduce", "kwinners-boosting", "--quick", "--json", "--out", str(tmp_path)]
    assert main(args) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in records] == ["kwinners-boosting"] and records[0]["quick"] is True


def test_update_readme_refuses_quick_runs(capsys, tmp_path):
    args = ["reproduce", "--quick", "--update-readme", "README.md", "--out", str(tmp_path)]
    assert main(args) == 2
    assert "full runs only" in capsys.readouterr().err


def test_theory_prints_the_key_values(capsys, tmp_path):
    assert main(["theory", "--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "false_negative_a128_s30_theta12_v64" in out and "figures:" in out


def _taxi_head(tmp_path, rows=150):
    from dendrix.data.timeseries import bundled_series

    lines = bundled_series("nyc_taxi").read_text().splitlines()[: rows + 1]
    path = tmp_path / "taxi.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_detect_writes_scores_and_a_plot_and_never_overwrites(tmp_path, capsys):
    src = _taxi_head(tmp_path)
    out = tmp_path / "out"
    assert main(["detect", str(src), "--out-dir", str(out), "--quiet"]) == 0
    rows = (out / "taxi_anomaly.csv").read_text().splitlines()
    assert rows[0] == "timestamp,value,raw_anomaly,likelihood,log_likelihood,anomaly_score"
    assert len(rows) == 151 and rows[1].startswith("2014-07-01 00:00:00,10844.0,")
    assert (out / "taxi_anomaly.png").read_bytes()[:4] == b"\x89PNG"
    before = (out / "taxi_anomaly.csv").read_bytes()
    assert main(["detect", str(src), "--out-dir", str(out), "--quiet"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (out / "taxi_anomaly.csv").read_bytes() == before


def test_detect_reports_malformed_rows_with_line_numbers(tmp_path, capsys):
    src = _taxi_head(tmp_path, rows=60)
    src.write_text(src.read_text() + "2015-01-01 00:00:00,oops\n")
    assert main(["detect", str(src), "--out-dir", str(tmp_path), "--quiet"]) == 2
    assert "line 62: value 'oops' is not a number" in capsys.readouterr().err
    assert main(["detect", str(src), "--out-dir", str(tmp_path), "--quiet", "--skip-bad"]) == 0
    assert "skipped line 62" in capsys.readouterr().err


def test_detect_saves_a_model_that_loads(tmp_path):
    from dendrix.htm.detector import HTMDetector

    src = _taxi_head(tmp_path, rows=60)
    model = tmp_path / "m.npz"
    args = ["detect", str(src), "--out-dir", str(tmp_path), "--quiet", "--save-model", str(model)]
    assert main(args) == 0
    assert HTMDetector.load(model).records == 60


@pytest.mark.parametrize("memory", ["backtracking", "htm"])
def test_detect_uses_the_chosen_temporal_memory(tmp_path, memory):
    from dendrix.htm.detector import HTMDetector

    src = _taxi_head(tmp_path, rows=40)
    model = tmp_path / "m.npz"
    args = ["detect", str(src), "--out-dir", str(tmp_path), "--quiet", "--save-model", str(model)]
    assert main([*args, "--temporal-memory", memory]) == 0
    assert HTMDetector.load(model).config.temporal_memory == memory
