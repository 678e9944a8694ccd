"""ODIN checkpoints: weights in safetensors (no code runs on load), the ``OdinConfig`` as JSON and the weights' SHA-256
beside them.

``save_checkpoint(model, "run/odin_small.safetensors")`` writes ``run/odin_small.safetensors``, ``run/odin_small.json``
and ``run/odin_small.sha256`` (the weights file's SHA-256 in hex, the first field of what ``sha256sum`` prints);
``load_checkpoint`` checks the hash, reads the config and rebuilds the model. Any unreadable, corrupt or mismatched
file raises :class:`CheckpointError` naming the file. safetensors checks its header and tensor sizes but not the bytes
of the tensors, so without the hash a damaged file (zeroed blocks, say) would load silently.
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from pathlib import Path

import torch

from envs.jsonfile import JsonFileError, read_json

from .config import OdinConfig
from .model import Odin
from .text_head import TextEmbedder


class CheckpointError(ValueError):
    """A checkpoint file is missing, corrupt or does not fit the model it describes."""


MIN_RESOLUTION = 32
"""The smallest model input size: the backbone's coarsest level is 1/32 of it."""


def config_path_for(weights_path: str | Path) -> Path:
    return Path(weights_path).with_suffix(".json")


def checksum_path_for(weights_path: str | Path) -> Path:
    return Path(weights_path).with_suffix(".sha256")


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_checksum(weights_path: str | Path) -> Path:
    """Write ``<name>.sha256`` beside the weights; returns its path."""
    target = checksum_path_for(weights_path)
    target.write_text(file_sha256(weights_path) + "\n")
    return target


def verify_checksum(weights_path: str | Path) -> None:
    """Compare the weights with the hash stored beside them: a mismatch raises :class:`CheckpointError`; a missing
    hash file only warns (checkpoints saved before hashes were stored have none)."""
    weights_path = Path(weights_path)
    stored_file = checksum_path_for(weights_path)
    if not stored_file.is_file():
        warnings.warn(f"{weights_path}: no {stored_file.name} beside it, so its integrity is not checked",
                      stacklevel=3)
        return
    fields = stored_file.read_text(errors="replace").split()
    if not fields or not re.fullmatch(r"[0-9a-f]{64}", fields[0].lower()):
        raise CheckpointError(f"{stored_file}: not a SHA-256 hex digest")
    actual = file_sha256(weights_path)
    if actual != fields[0].lower():
        raise CheckpointError(f"{weights_path}: its SHA-256 {actual[:16]}... differs from {stored_file.name} "
                              f"({fields[0][:16]}...): the weights file is damaged or was replaced")


def training_settings(weights_path: str | Path) -> dict:
    """The ``train`` section of the recipe beside a checkpoint: ``<name>.train.json`` (a shipped checkpoint) or the
    run's ``train_config.json``; {} when neither exists. A recipe that is not a JSON object with a ``train`` object,
    or whose ``resolution`` is not an integer >= 32 or ``use_3d`` not a boolean, raises :class:`CheckpointError`
    naming the file."""
    weights_path = Path(weights_path)
    for path in (weights_path.with_suffix(".train.json"), weights_path.parent / "train_config.json"):
        if not path.is_file():
            continue
        try:
            data = read_json(path)
        except (OSError, JsonFileError) as error:
            raise CheckpointError(str(error)) from None
        settings = data.get("train") if isinstance(data, dict) else None
        if not isinstance(settings, dict):
            raise CheckpointError(f"{path}: expected a JSON object with a 'train' object, got {type(data).__name__}")
        resolution = settings.get("resolution")
        if resolution is not None and (not isinstance(resolution, int) or isinstance(resolution, bool)
                                       or resolution < MIN_RESOLUTION):
            raise CheckpointError(f"{path}: train.resolution must be an integer >= {MIN_RESOLUTION}, got "
                                  f"{resolution!r}")
        if not isinstance(settings.get("use_3d", True), bool):
            raise CheckpointError(f"{path}: train.use_3d must be true or false, got {settings['use_3d']!r}")
        return settings
    return {}


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
    write_checksum(path)
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
    verify_checksum(path)
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
