"""Every registered recipe runs at its quick budget and writes a schema-valid result."""

from __future__ import annotations

import json
import math

import pytest

from dendrix.recipes import RECIPES, run_recipe


@pytest.mark.parametrize("name", RECIPES.names())
def test_quick_run_writes_a_complete_result_whose_claims_hold(name, tmp_path):
    record = run_recipe(name, quick=True, out_dir=tmp_path)
    on_disk = json.loads((tmp_path / "quick" / f"{name}.json").read_text())
    assert on_disk == record
    assert record["claims"], "a recipe compares with at least one published figure"
    for claim in record["claims"]:
        assert claim["metric"] in record["metrics"]
        assert math.isfinite(claim["measured"])
        assert claim["status"] == "reproduced", claim
    for fig in record["figures"]:
        assert (tmp_path / "quick" / fig).read_bytes()[:4] == b"\x89PNG"
    assert record["provenance"]["seed"] == RECIPES[name].quick.seed
