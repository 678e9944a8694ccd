"""perception.gpu_recipe without a GPU: the budget, the stage commands, the fp16 export, and the whole recipe on a tiny
box-world dataset with --device cpu (what a lent GPU machine runs, minus CUDA and the dataset export)."""

import json
import sys
import tarfile
from pathlib import Path

import pytest
import torch

from perception import gpu_recipe
from perception import train as perception_train
from perception.odin import get_config, load_checkpoint
from perception.odin.checkpoint import CheckpointError
from tests.test_perception_train import run_train, write_box_dataset


def test_training_gets_what_the_reserve_leaves_and_refuses_too_little():
    assert gpu_recipe.training_minutes(540.0, 90.0) == pytest.approx(7.5)
    with pytest.raises(RuntimeError, match="no time to train"):
        gpu_recipe.training_minutes(100.0, 90.0)


def test_stage_commands_use_every_core_and_the_budget(tmp_path):
    args = gpu_recipe.parse_args(["--out", str(tmp_path), "--workers", "16", "--resolution", "256",
                                  "--init", __file__.replace("test_gpu_recipe.py", "conftest.py")])
    commands = gpu_recipe.stage_commands(args, tmp_path / "data", tmp_path / "run", train_minutes=6.25)
    assert commands["data_train"][:3] == [sys.executable, "-m", "perception.make_dataset"]
    assert commands["data_train"][-2:] == ["--workers", "16"] and "--variants" in commands["data_train"]
    train = commands["train"]
    assert train[train.index("--max-minutes") + 1] == "6.25" and train[train.index("--device") + 1] == "cuda"
    assert train[train.index("--resolution") + 1] == "256" and "--init-weights" in train
    assert "--targets-3d" not in train  # the recipe's own default unless asked
    # object views go with the train data only, in a directory of their own; evaluation stays on look-arounds
    data_train, evaluate = commands["data_train"], commands["evaluate"]
    assert data_train[data_train.index("--object-views") + 1] == "12"
    assert train[train.index("--data") + 1] == data_train[data_train.index("--out") + 1] == str(tmp_path / "data_train")
    assert evaluate[evaluate.index("--data") + 1] == str(tmp_path / "data")
    assert "--object-views" not in commands["data_eval"]
    plain = gpu_recipe.parse_args(["--out", str(tmp_path), "--object-views", "0"])
    plain_commands = gpu_recipe.stage_commands(plain, tmp_path / "data", tmp_path / "run", train_minutes=6.25)
    assert "--object-views" not in plain_commands["data_train"]
    assert plain_commands["train"][plain_commands["train"].index("--data") + 1] == str(tmp_path / "data")
    voxel = gpu_recipe.parse_args(["--out", str(tmp_path), "--targets-3d", "voxel"])
    train = gpu_recipe.stage_commands(voxel, tmp_path / "data", tmp_path / "run", train_minutes=6.25)["train"]
    assert train[train.index("--targets-3d") + 1] == "voxel"
    parsed = perception_train.parse_args(train[train.index("perception.train") + 1:])
    assert parsed.targets_3d == "voxel"  # perception.train reads what the recipe writes
    assert (parsed.class_balance, parsed.zoom_crops) == (0.5, 0.5)  # the shipped model's recipe by default
    plain_train = gpu_recipe.stage_commands(gpu_recipe.parse_args(["--out", str(tmp_path), "--zoom-crops", "0"]),
                                            tmp_path / "data", tmp_path / "run", train_minutes=6.25)["train"]
    assert perception_train.parse_args(plain_train[plain_train.index("perception.train") + 1:]).zoom_crops == 0.0
    assert "--mask-positive-weight" not in plain_train  # plain BCE unless asked
    assert perception_train.parse_args(plain_train[plain_train.index("perception.train") + 1:]).mask_targets == "peak"
    thin = gpu_recipe.stage_commands(gpu_recipe.parse_args(["--out", str(tmp_path), "--mask-targets", "peak",
                                                            "--mask-positive-weight", "50",
                                                            "--matcher-positive-weight", "1"]),
                                     tmp_path / "data", tmp_path / "run", train_minutes=6.25)["train"]
    thin_args = perception_train.parse_args(thin[thin.index("perception.train") + 1:])
    assert (thin_args.mask_targets, thin_args.mask_positive_weight) == ("peak", 50.0)
    assert thin_args.matcher_positive_weight == 1.0
    assert "--matcher-positive-weight" not in plain_train and "--repeat-factor" not in plain_train
    sampled = gpu_recipe.stage_commands(gpu_recipe.parse_args(["--out", str(tmp_path), "--repeat-factor", "0.2"]),
                                        tmp_path / "data", tmp_path / "run", train_minutes=6.25)["train"]
    assert perception_train.parse_args(sampled[sampled.index("perception.train") + 1:]).repeat_factor == 0.2
    with pytest.raises(SystemExit):
        gpu_recipe.parse_args(["--out", str(tmp_path), "--repeat-factor", "3"])
    with pytest.raises(SystemExit):
        gpu_recipe.parse_args(["--out", str(tmp_path), "--zoom-crops", "1.5"])
    with pytest.raises(SystemExit):
        gpu_recipe.parse_args(["--out", str(tmp_path), "--minutes", "1", "--reserve-minutes", "2"])
    # fine-tuning a checkpoint trains its own config (the shipped one may be grown deeper than "small")
    shipped = Path(__file__).resolve().parents[1] / "perception" / "checkpoints" / "small.safetensors"
    tuned = gpu_recipe.parse_args(["--out", str(tmp_path), "--init", str(shipped)])
    train = gpu_recipe.stage_commands(tuned, tmp_path / "data", tmp_path / "run", train_minutes=6.25)["train"]
    config = perception_train.parse_args(train[train.index("perception.train") + 1:]).config
    assert get_config(config) == load_checkpoint(shipped, device="cpu").config
    assert plain_commands["train"][plain_commands["train"].index("--config") + 1] == "small"


def test_half_precision_export_loads_back_close_and_is_checked(tmp_path):
    data = write_box_dataset(tmp_path / "data")
    run_train(data, tmp_path / "run", 1)
    weights = tmp_path / "run" / "last.safetensors"
    half = gpu_recipe.export_half(weights, tmp_path / "out" / "half.safetensors")
    assert half.stat().st_size < 0.6 * weights.stat().st_size
    full, restored = load_checkpoint(weights), load_checkpoint(half)
    for name, value in full.state_dict().items():
        other = restored.state_dict()[name]
        assert other.dtype == value.dtype
        assert torch.allclose(other, value, rtol=1e-3, atol=1e-3), name
    blob = bytearray(half.read_bytes())
    blob[-100:] = bytes(100)
    half.write_bytes(bytes(blob))
    with pytest.raises(CheckpointError):
        load_checkpoint(half)


def test_the_recipe_runs_end_to_end_on_the_cpu(tmp_path):
    data = write_box_dataset(tmp_path / "data")
    out = tmp_path / "OUT"
    code = gpu_recipe.main(["--out", str(out), "--work", str(tmp_path / "work"), "--data", str(data),
                            "--device", "cpu", "--config", "tiny", "--resolution", "64", "--max-steps", "2",
                            "--minutes", "6", "--reserve-minutes", "2", "--eval-splits", "valid_unseen",
                            "--workers", "1"])
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["gpu_odin.tar", "gpu_recipe.log"]
    with tarfile.open(out / "gpu_odin.tar") as tar:
        tar.extractall(tmp_path / "back", filter="data")
    back = tmp_path / "back"
    assert {"gpu_small.safetensors", "gpu_small.json", "gpu_small.sha256", "gpu_small.train.json",
            "gpu_small_losses.csv", "gpu_eval_gpu.json"} <= {p.name for p in back.iterdir()}
    recipe = json.loads((back / "gpu_small.train.json").read_text())
    assert recipe["train"]["resolution"] == 64
    assert load_checkpoint(back / "gpu_small.safetensors").config.name == "tiny"
