"""``gazesdk models``: the table and the JSON contract."""

from __future__ import annotations

import json

from gazesdk.cli import main
from gazesdk.models import count_macs, count_params, create_model, list_models


def test_models_json_contract(capsys):
    assert main(["models", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == list_models()
    for r in rows:
        assert set(r) == {"name", "params", "macs"}
        assert isinstance(r["params"], int) and isinstance(r["macs"], int)
        model = create_model(r["name"])                  # ordinal head, face grid
        assert r["params"] == count_params(model) and r["macs"] == count_macs(model)


def test_models_table(capsys):
    assert main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["backbone", "params", "MACs"]
    assert lines[1].startswith("casia") and "928.5M" in lines[1]
    assert lines[2].startswith("compact")
