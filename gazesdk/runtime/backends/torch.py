"""torch backend: a training checkpoint, a ``.safetensors`` model or the bundled default, on
the CPU or a CUDA GPU. Mostly for researchers checking a model before exporting it; apps run
an exported model. ``threads`` sets torch's process-wide intra-op thread count."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from gazesdk.errors import ConfigError
from gazesdk.runtime.backends.base import check_device


def torch_metadata(model: Any, source: str) -> dict[str, Any]:
    """The parts of the export metadata the runtime reads, for a torch model; its outputs are
    gaze_cm and features, as an export with features has them."""
    from gazesdk.export.graph import input_shapes, output_shapes
    from gazesdk.export.metadata import artifact_sha256, decoding, preprocessing, tensor_specs

    inputs, outputs = tensor_specs(input_shapes(model), "dynamic",
                                   outputs=output_shapes(features=True))
    artifact: dict[str, Any] = {"format": "torch", "precision": "fp32", "batch": "dynamic",
                                "runtime": "torch"}
    from gazesdk.models.loading import DEFAULT_MODEL, default_model_path

    weights = str(default_model_path()) if source == DEFAULT_MODEL else source
    if os.path.isfile(weights):      # a weights file: calibration profiles bind to its bytes
        artifact["sha256"] = artifact_sha256(weights)
    return {"model": {"name": str(model.config["name"]), "config": model.config,
                      "parameters": int(sum(p.numel() for n, p in model.named_parameters()
                                            if not n.startswith("pose."))),
                      "source": source},
            "artifact": artifact,
            "inputs": inputs, "outputs": outputs, "preprocessing": preprocessing(model),
            "decoding": decoding(model)}


class TorchBackend:
    """A torch :class:`~gazesdk.models.gaze_model.GazeModel` in eval mode: :meth:`infer` gives
    ``model.predict``, :meth:`infer_all` that and ``model.features`` (the frame as given, as an
    export's features output)."""

    name = "torch"

    def __init__(self, source: str | os.PathLike = "default", *, device: str = "cpu",
                 threads: int = 1) -> None:
        check_device(device, threads)
        try:
            import torch
        except ImportError:
            raise ConfigError("the torch backend needs torch: pip install 'gazesdk[train]' "
                              "(torch==2.13.0)") from None
        from gazesdk.models.loading import load_model

        if device == "cuda" and not torch.cuda.is_available():
            raise ConfigError("device 'cuda' was asked for but torch sees no CUDA GPU")
        torch.set_num_threads(threads)
        self._torch = torch
        self.device = device
        self.model = load_model(source).to(device).eval()
        self.metadata = torch_metadata(self.model, str(source))
        self._names = tuple(t["name"] for t in self.metadata["inputs"])

    def infer(self, inputs: Mapping[str, np.ndarray]) -> np.ndarray:
        t = self._torch
        with t.inference_mode():
            x = [t.from_numpy(np.ascontiguousarray(inputs[k])).to(self.device)
                 for k in self._names]
            return self.model.predict(*x).float().cpu().numpy()

    def infer_all(self, inputs: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        t = self._torch
        with t.inference_mode():
            x = {k: t.from_numpy(np.ascontiguousarray(inputs[k])).to(self.device)
                 for k in self._names}
            gaze = self.model.predict(**x)
            features = self.model.features(**x)
            return [gaze.float().cpu().numpy(), features.float().cpu().numpy()]

    def close(self) -> None:
        self.model = None
