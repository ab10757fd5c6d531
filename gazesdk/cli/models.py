"""``gazesdk models``: the model zoo's backbones with their size and cost."""

from __future__ import annotations

import argparse
import json

from gazesdk.errors import GazeSDKError


def register(sub: argparse._SubParsersAction) -> None:
    models = sub.add_parser(
        "models", help="list the model backbones with parameters and multiply-adds",
        description="List the registered backbones. Each row is the full three-branch model "
                    "(face, shared eye branch) with the default ordinal head and the face grid; "
                    "MACs are the multiply-adds of one sample, the eye branch counted twice.")
    models.add_argument("--json", action="store_true",
                        help='print a JSON list of {"name", "params", "macs"}')
    models.set_defaults(func=_list)


def model_rows() -> list[dict[str, int | str]]:
    """One ``{"name", "params", "macs"}`` per backbone (ordinal head, face grid)."""
    try:
        from gazesdk.models import count_macs, count_params, create_model, list_models
    except ModuleNotFoundError as e:
        if e.name != "torch":
            raise
        raise GazeSDKError("gazesdk models needs PyTorch: pip install 'gazesdk[train]'") \
            from None
    rows: list[dict[str, int | str]] = []
    for name in list_models():
        model = create_model(name)
        rows.append({"name": name, "params": count_params(model), "macs": count_macs(model)})
    return rows


def _list(args: argparse.Namespace) -> int:
    rows = model_rows()
    if args.json:
        print(json.dumps(rows))
        return 0
    from gazesdk.models import backbone_summary

    width = max([len("backbone"), *(len(str(r["name"])) for r in rows)])
    print(f"{'backbone':<{width}}  {'params':>8}  {'MACs':>9}  description")
    for r in rows:
        print(f"{r['name']:<{width}}  {int(r['params']) / 1e6:>7.2f}M  "
              f"{int(r['macs']) / 1e6:>8.1f}M  {backbone_summary(str(r['name']))}")
    print("(ordinal head, face grid; MACs: multiply-adds of one sample, eye branch twice)")
    return 0
