"""Model zoo: Guo et al.'s three-branch gaze network ("A Generalized and Robust Method Towards
Practical Gaze Estimation on Smart Phone") with interchangeable backbones and heads.

>>> from gazesdk.models import create_model, list_models
>>> list_models()
['casia', 'compact', 'dilated']
>>> model = create_model("compact", head="ordinal", face_grid=True)
"""

# Importing the backbone modules registers them.
from gazesdk.models import casia, compact, dilated  # noqa: F401
from gazesdk.models.complexity import count_macs, count_params
from gazesdk.models.gaze_model import GazeModel
from gazesdk.models.heads import HEADS, L2Head, OrdinalHead
from gazesdk.models.registry import (
    backbone_summary,
    create_model,
    list_models,
    model_from_config,
    register_backbone,
)

__all__ = ["HEADS", "GazeModel", "L2Head", "OrdinalHead", "backbone_summary", "count_macs",
           "count_params", "create_model", "list_models", "model_from_config",
           "register_backbone"]
