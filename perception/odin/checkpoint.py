"""ODIN checkpoints: weights in safetensors (no code runs on load) and the ``OdinConfig`` as JSON beside them.

``save_checkpoint(model, "run/odin_small.safetensors")`` writes ``run/odin_small.safetensors`` and
``run/odin_small.json``; ``load_checkpoint`` reads both and rebuilds the model. Any unreadable, corrupt or mismatched
file raises :class:`CheckpointError` naming the file.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from .config import OdinConfig
from .model import Odin
from .text_head import TextEmbedder


class CheckpointError(ValueError):
    """A checkpoint file is missing, corrupt or does not fit the model it describes."""


def config_path_for(weights_path: str | Path) -> Path:
    return Path(weights_path).with_suffix(".json")


def save_checkpoint(model: Odin, path: str | Path) -> Path:
    """Write ``path`` (.safetensors) and its config JSON beside it; returns the weights path."""
    from safetensors.torch import save_file

    path = Path(path)
    if path.suffix != ".safetensors":
        raise ValueError(f"checkpoint path must end in .safetensors, got {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {name: tensor.detach().cpu().contiguous() for name, tensor in model.state_dict().items()}
    metadata = {"format": "odin", "config": json.dumps(model.config.to_dict())}
    save_file(state, str(path), metadata=metadata)
    model.config.to_json(config_path_for(path))
    return path


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu",
                    text_embedder: TextEmbedder | None = None) -> Odin:
    """Rebuild an :class:`Odin` from ``path`` (.safetensors) and the config JSON beside it, on ``device``."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    config_file = config_path_for(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint weights not found")
    if not config_file.is_file():
        raise CheckpointError(f"{config_file}: config JSON for checkpoint {path.name} not found")
    try:
        config = OdinConfig.from_json(config_file)
    except (ValueError, TypeError) as error:
        raise CheckpointError(f"{config_file}: invalid ODIN config ({error})") from error
    try:
        state = load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as error:
        raise CheckpointError(f"{path}: not a readable safetensors file ({error})") from error
    model = Odin(config, text_embedder)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong_shape = sorted(name for name in set(expected) & set(state) if expected[name].shape != state[name].shape)
    if missing or unexpected or wrong_shape:
        def show(names):
            return ", ".join(names[:5]) + (f" (+{len(names) - 5} more)" if len(names) > 5 else "")
        details = [f"missing {show(missing)}" if missing else "", f"unexpected {show(unexpected)}" if unexpected else "",
                   f"wrong shape {show(wrong_shape)}" if wrong_shape else ""]
        raise CheckpointError(f"{path}: weights do not match config {config.name!r} ("
                              + "; ".join(d for d in details if d) + ")")
    model.load_state_dict(state)
    return model.to(device)
