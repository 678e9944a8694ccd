"""perception.train on a tiny box-world dataset: a few steps write a checkpoint and a loss CSV, a rerun resumes from
them on the run's stored schedule (same LR, batches and weights as without a break), the samplers follow ODIN's
recipe, and bad arguments fail with a clear message."""

import csv
import json
import random

import numpy as np
import pytest
import torch

from perception import train
from perception.data import load_scenes, make_2d_batch, make_3d_batch, pick_views, sequence_dirs
from perception.dataset.coco import build_coco, write_coco
from perception.dataset.synthetic import Box, render_box_world
from perception.dataset.vocabulary import class_vocabulary
from perception.dataset.writer import SequenceWriter
from perception.odin import load_checkpoint

BOXES = [
    Box("DiningTable|1", "DiningTable", (-0.6, 0.0, 0.8), (0.9, 0.8, 1.6)),
    Box("Mug|1", "Mug", (0.0, 0.8, 1.0), (0.12, 0.92, 1.12)),
    Box("Fridge|2", "Fridge", (1.5, 0.0, -1.0), (2.2, 1.8, -0.3)),
]
SIZE = 64
POSES = [((0.0, 0.9, -0.5), 0, 30), ((0.2, 0.9, -0.4), 20, 15), ((0.3, 0.9, -0.2), 50, 30), ((0.0, 0.9, 0.0), 90, 0)]


def write_box_dataset(root, splits=(("train", "FloorPlan1"), ("valid_unseen", "FloorPlan10")), poses=POSES):
    """A dataset directory in perception.make_dataset's layout: one box-world sequence of ``poses`` per split."""
    vocabulary = list(class_vocabulary())
    plan = {"settings": {"width": SIZE, "height": SIZE, "fov": 90.0}, "splits": {}, "vocabulary": vocabulary}
    for split, scene in splits:
        directory = root / split / scene
        writer = SequenceWriter(directory, SIZE, SIZE, 90.0)
        for position, yaw, horizon in poses:
            writer.add(render_box_world(BOXES, position, yaw, horizon, width=SIZE, height=SIZE, scene_name=scene))
        writer.close({"scene": scene, "split": split, "seed": 0})
        plan["splits"][split] = [scene]
        write_coco(root / f"coco_{split}.json", build_coco(root, [directory], vocabulary))
    (root / "dataset.json").write_text(json.dumps(plan))
    return root


@pytest.fixture(scope="module")
def box_dataset(tmp_path_factory):
    return write_box_dataset(tmp_path_factory.mktemp("box_dataset"))


def run_train(data, out, steps, *extra):
    argv = ["--config", "tiny", "--data", str(data), "--out", str(out), "--max-steps", str(steps),
            "--resolution", "64", "--views", "3", "--threads", "1", *extra]
    return train.run(train.parse_args(argv))


def read_losses(out):
    with open(out / "losses.csv") as handle:
        return list(csv.DictReader(handle))


def test_training_writes_checkpoint_and_losses_then_resumes(box_dataset, tmp_path):
    out = tmp_path / "run"
    first = run_train(box_dataset, out, 3)
    assert first["step"] == 3 and (out / "last.safetensors").is_file() and (out / "last.json").is_file()
    rows = read_losses(out)
    assert [int(r["step"]) for r in rows] == [1, 2, 3]
    assert all(np.isfinite(float(r["loss"])) and float(r["loss"]) > 0 for r in rows)
    assert {r["kind"] for r in rows} <= {"2d", "3d"}
    weights_after_3 = load_checkpoint(out / "last.safetensors").state_dict()

    second = run_train(box_dataset, out, 5, "--change-budget")  # same --out: resumes at step 3, budget 3 -> 5
    assert second["step"] == 5
    assert [int(r["step"]) for r in read_losses(out)] == [1, 2, 3, 4, 5]
    resumed = load_checkpoint(out / "last.safetensors").state_dict()
    changed = [name for name in resumed if not torch.equal(resumed[name], weights_after_3[name])]
    assert changed, "two more optimiser steps changed no weight"
    saved = json.loads((out / "train_config.json").read_text())
    assert saved["train"]["resolution"] == 64 and saved["train"]["views"] == 3 and saved["model"]["name"] == "tiny"


def test_no_3d_fusion_ablation_trains_only_2d_and_frozen_backbone_keeps_it(box_dataset, tmp_path):
    out = tmp_path / "no3d"
    run_train(box_dataset, out, 3, "--ablation", "no-3d-fusion")
    assert {r["kind"] for r in read_losses(out)} == {"2d"}
    pretrained = load_checkpoint(out / "last.safetensors").state_dict()

    with pytest.raises(SystemExit):  # a frozen random backbone is refused
        train.parse_args(["--data", str(box_dataset), "--out", str(tmp_path / "f"), "--max-steps", "1",
                          "--ablation", "frozen-backbone"])
    frozen_out = tmp_path / "frozen"
    torch.manual_seed(0)
    init = ("--ablation", "frozen-backbone", "--init-backbone", str(out / "last.safetensors"))
    run_train(box_dataset, frozen_out, 2, *init)
    first = load_checkpoint(frozen_out / "last.safetensors").state_dict()
    run_train(box_dataset, frozen_out, 4, *init, "--change-budget")
    later = load_checkpoint(frozen_out / "last.safetensors").state_dict()
    backbone = [n for n in first if n.startswith("backbone.")]
    assert backbone and all(torch.equal(pretrained[n], later[n]) for n in backbone)
    assert any(not torch.equal(first[n], later[n]) for n in first if n.startswith("decoder."))
    assert any(not torch.equal(pretrained[n], later[n]) for n in first if n.startswith("decoder."))
    saved = json.loads((frozen_out / "train_config.json").read_text())
    assert saved["init_backbone"].endswith("last.safetensors")


def test_init_backbone_rejects_a_checkpoint_of_another_config(box_dataset, tmp_path, capsys):
    from perception.odin import Odin, get_config, save_checkpoint

    small = tmp_path / "small.safetensors"
    save_checkpoint(Odin(get_config("small")), small)
    code = train.main(["--config", "tiny", "--data", str(box_dataset), "--out", str(tmp_path / "x"),
                       "--max-steps", "1", "--init-backbone", str(small)])
    err = capsys.readouterr().err
    assert code == 2 and "small.safetensors" in err and "backbone" in err


def test_resume_flag_without_checkpoint_and_missing_data_fail_clearly(box_dataset, tmp_path, capsys):
    code = train.main(["--config", "tiny", "--data", str(box_dataset), "--out", str(tmp_path / "empty"),
                       "--max-steps", "1", "--resume"])
    assert code == 2 and "--resume" in capsys.readouterr().err
    code = train.main(["--config", "tiny", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "x"),
                       "--max-steps", "1"])
    assert code == 2 and "dataset.json" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        train.parse_args(["--data", str(box_dataset), "--out", str(tmp_path)])  # neither budget given


def test_resized_points_are_computed_from_depth_exactly(box_dataset):
    """A loaded sequence keeps depth, not points (a sixth of the bytes), and its points are the nearest-resized
    unprojection of every full-resolution frame, bit for bit, whichever way the frames are indexed."""
    import cv2

    from perception.data import resize_sequence
    from perception.dataset.scannet import load_sequence

    directory = sequence_dirs(box_dataset, ["train"])[0]
    scene, sequence = resize_sequence(directory, 24), load_sequence(directory)
    expected = np.stack([cv2.resize(sequence.world_points(i).astype(np.float32), (24, 24),
                                    interpolation=cv2.INTER_NEAREST) for i in range(len(sequence))])
    assert scene.xyz.shape == expected.shape and len(scene.xyz) == len(sequence)
    assert np.array_equal(np.asarray(scene.xyz), expected)
    assert np.array_equal(scene.xyz[[2, 0]], expected[[2, 0]]) and np.array_equal(scene.xyz[1], expected[1])
    assert np.array_equal(scene.xyz.reshape(-1, 3), expected.reshape(-1, 3))
    assert scene.xyz.depth_mm.nbytes * 6 == expected.nbytes
    assert np.array_equal(scene.valid, scene.xyz.depth_mm > 0)


def test_batches_follow_the_recipe(box_dataset):
    scenes = load_scenes(sequence_dirs(box_dataset, ["train"]), 32, progress=False)
    scene = scenes[0]
    assert scene.color.shape == (4, 32, 32, 3) and scene.xyz.shape == (4, 32, 32, 3)
    rng = random.Random(0)
    batch = make_3d_batch(scenes, [0], 3, rng, augment=False)
    assert batch["images"].shape == (1, 3, 3, 32, 32) and batch["xyz"].shape == (1, 3, 32, 32, 3)
    target = batch["targets"][0]
    names = [class_vocabulary()[i] for i in target["labels"].tolist()]
    assert set(names) <= {"DiningTable", "Mug", "Fridge"} and "DiningTable" in names
    assert target["masks"].shape[1:] == (3, 8, 8) and target["masks"].any(dim=(1, 2, 3)).all()
    flat = make_2d_batch(scenes, [(0, 0), (0, 1)], rng, augment=False)
    assert flat["images"].shape == (2, 1, 3, 32, 32) and flat["xyz"] is None

    picks = [pick_views(10, 4, random.Random(seed), max_stride=2, camera_drop=0.0) for seed in range(20)]
    for views in picks:
        steps = {(b - a) % 10 for a, b in zip(views, views[1:])}
        assert len(views) == 4 and len(steps) == 1 and steps <= {1, 2}  # consecutive, one stride, wrapping
    dropped = [len(pick_views(10, 4, random.Random(seed), camera_drop=1.0)) for seed in range(30)]
    assert min(dropped) >= 1 and max(dropped) <= 4 and len(set(dropped)) > 1


def train_main(data, out, *extra):
    return train.main(["--config", "tiny", "--data", str(data), "--out", str(out), "--resolution", "64",
                       "--views", "3", "--threads", "1", *extra])


def test_a_run_stopped_and_resumed_follows_the_uninterrupted_schedule(box_dataset, tmp_path, capsys):
    """Issue 15: a run stopped after 7 steps and resumed twice (the second resume without any budget option) takes
    the same steps at the same learning rates (warmup, constant, /10 for the last 15 %) to the same final step and
    weights as one that ran 20 steps without a break; every leg's command is kept, the first train_config.json too."""
    recipe = ("--max-steps", "20", "--warmup-steps", "3")
    assert train_main(box_dataset, tmp_path / "whole", *recipe) == 0
    legs = tmp_path / "legs"
    assert train_main(box_dataset, legs, *recipe, "--leg-steps", "7") == 0
    first_config = (legs / "train_config.json").read_text()
    assert "not spent" in capsys.readouterr().err
    with open(legs / "losses.csv", "a") as handle:  # a killed leg's steps after its last checkpoint: taken again
        handle.write("8,9.9,2d,1.0,1.0,1.0,1.0,3.00e-04,0.1\n")
    assert train_main(box_dataset, legs, "--resume", "--leg-steps", "6") == 0
    assert train_main(box_dataset, legs, *recipe) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["step"] == 20 and summary["finished"] and summary["stop"] == "max-steps"

    whole, resumed = read_losses(tmp_path / "whole"), read_losses(legs)
    lrs = [float(r["lr"]) for r in whole]
    assert lrs == pytest.approx([1e-4, 2e-4] + [3e-4] * 15 + [3e-5] * 3)  # steps 18-20: index >= 0.85 * 20
    assert [int(r["step"]) for r in resumed] == list(range(1, 21))
    columns = ("step", "kind", "lr", "loss", "loss_ce", "loss_mask", "loss_dice")
    assert [[r[c] for c in columns] for r in resumed] == [[r[c] for c in columns] for r in whole]
    a = load_checkpoint(tmp_path / "whole" / "last.safetensors").state_dict()
    b = load_checkpoint(legs / "last.safetensors").state_dict()
    assert all(torch.equal(a[name], b[name]) for name in a)

    assert (legs / "train_config.json").read_text() == first_config
    stored = json.loads(first_config)
    assert stored["budget"] == {"max_steps": 20, "max_minutes": None} and "--leg-steps 7" in stored["command"]
    records = train.read_legs(legs)
    starts = [r for r in records if r["event"] == "start"]
    assert [r["leg"] for r in starts] == [1, 2, 3] and [r["step"] for r in starts] == [0, 7, 13]
    assert "--resume --leg-steps 6" in starts[1]["command"] and starts[1]["losses_rows_dropped"] == 1
    assert all(r["threads"] == 1 and r["splits"] == ["train"] and r["data"] == str(box_dataset) for r in starts)
    assert [r["stop"] for r in records if r["event"] == "stop"] == ["leg-steps", "leg-steps", "max-steps"]

    # Done: the same command again loads nothing and takes no step.
    assert train_main(box_dataset, legs, "--resume") == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["step"] == 20


def test_resume_refuses_a_different_budget_or_recipe_unless_asked(box_dataset, tmp_path, capsys):
    out = tmp_path / "run"
    assert train_main(box_dataset, out, "--max-steps", "4", "--leg-steps", "1") == 0
    capsys.readouterr()
    assert train_main(box_dataset, out, "--max-steps", "2") == 2  # a leg's length is not the run's budget
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--max-steps 4" in err and "--leg-steps" in err and "--change-budget" in err
    assert train_main(box_dataset, out, "--resume", "--ablation", "views-4") == 2
    err = capsys.readouterr().err
    assert "train_config.json" in err and "name='odin' (this command: 'views-4')" in err and err.count("\n") == 1
    assert train_main(box_dataset, out, "--max-steps", "2", "--change-budget") == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["step"] == 2
    assert train.read_legs(out)[-2]["budget"] == {"max_steps": 2, "max_minutes": None}


def test_sigterm_saves_at_the_next_step_boundary(box_dataset, tmp_path, monkeypatch):
    import os
    import signal

    real = train.lr_factor

    def signal_at_step_2(config, step, final_phase):
        if step == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        return real(config, step, final_phase)

    monkeypatch.setattr(train, "lr_factor", signal_at_step_2)
    before = signal.getsignal(signal.SIGTERM)  # not SIG_DFL when another test started Ray in this process
    assert train_main(box_dataset, tmp_path / "run", "--max-steps", "10") == 143
    assert train.read_trainer_state(tmp_path / "run")["step"] == 3  # the step under way was finished and saved
    assert [int(r["step"]) for r in read_losses(tmp_path / "run")] == [1, 2, 3]
    assert signal.getsignal(signal.SIGTERM) is before


def test_the_schedule_is_a_function_of_the_run_position():
    config = train.TrainConfig(warmup_steps=4, final_lr_fraction=0.2)
    steps, minutes = train.Budget(max_steps=100), train.Budget(max_minutes=10)
    assert [train.lr_factor(config, s, False) for s in range(5)] == [0.25, 0.5, 0.75, 1.0, 1.0]
    assert not train.in_final_phase(config, steps, 79, 1e9) and train.in_final_phase(config, steps, 80, 0.0)
    assert not train.in_final_phase(config, minutes, 10**6, 479.0) and train.in_final_phase(config, minutes, 0, 480.0)
    both = train.Budget(max_steps=100, max_minutes=10)  # whichever budget comes first
    assert train.in_final_phase(config, both, 80, 0.0) and train.in_final_phase(config, both, 0, 480.0)
    assert both.spent(99, 599.0) is None and both.spent(100, 0.0) == "max-steps" and both.spent(0, 600.0) == "max-minutes"
    assert train.lr_factor(config, 90, True) == pytest.approx(0.1)
    with pytest.raises(ValueError):
        train.Budget()
    with pytest.raises(ValueError):
        train.TrainConfig(final_lr_fraction=1.0)


def test_soft_targets_keep_a_small_object_that_nearest_sampling_drops():
    """A 9 x 9 px object in a 300 px frame between the pixels that nearest sampling to 128 px and then every 4th pixel
    reads (columns and rows 196 and 206): nearest sampling misses it, the
    coverage targets keep it, with its area (in cells) and place, and a horizontal flip mirrors them."""
    from perception.data import SceneArrays, _flipped, cell_coverage, downsample_mask, targets_for

    full = np.zeros((300, 300), dtype=np.int32)
    full[:150, :] = 1  # a wall-sized object on the top half
    full[197:206, 197:206] = 2  # the small one
    full[250:253, 20:23] = 3  # 9 pixels: below MIN_TARGET_PIXELS, not a target
    classes = np.array([-1, 4, 7, 9])
    import cv2

    nearest = cv2.resize(full.astype(np.uint16), (128, 128), interpolation=cv2.INTER_NEAREST).astype(np.int32)
    assert 2 not in np.unique(downsample_mask(nearest))

    ids, shares = cell_coverage(full, classes, 32)
    assert ids.tolist() == [1, 2]
    cell_area = (300 / 32) ** 2
    assert abs(shares[1].sum() / 255.0 * cell_area - 81) < 3  # the object's 81 pixels, in cells
    rows, cols = np.nonzero(shares[1])
    assert 197 / 300 * 32 - 1 <= rows.mean() <= 206 / 300 * 32 and 197 / 300 * 32 - 1 <= cols.mean() <= 206 / 300 * 32
    assert shares[0][:15].min() == 255 and shares[0][17:].max() == 0  # the big one fills its cells

    scene = SceneArrays("s", np.zeros((1, 128, 128, 3), np.uint8), np.zeros((1, 128, 128, 3), np.float32),
                        np.ones((1, 128, 128), bool), nearest[None], classes, [(ids, shares)])
    target = targets_for(scene, [0])
    assert target["labels"].tolist() == [4, 7] and target["masks"].shape == (2, 1, 32, 32)
    assert target["masks"].dtype == torch.float32 and float(target["masks"][1].max()) > 0.3
    mirrored = targets_for(_flipped(scene, 0), [0])
    assert torch.equal(mirrored["masks"], target["masks"].flip(-1))


def test_init_weights_fine_tunes_a_checkpoint_at_another_resolution(box_dataset, tmp_path):
    first = tmp_path / "first"
    run_train(box_dataset, first, 2)
    source = load_checkpoint(first / "last.safetensors", device="cpu")
    tuned = tmp_path / "tuned"
    argv = ["--config", "tiny", "--data", str(box_dataset), "--out", str(tuned), "--max-steps", "1",
            "--resolution", "96", "--views", "3", "--threads", "1", "--init-weights", str(first / "last.safetensors")]
    args = train.parse_args(argv)
    model = train.build_model(source.config, train.train_config_from_args(args), torch.device("cpu"))
    assert train.init_weights_from(model, first / "last.safetensors") == len(source.state_dict())
    for name, value in source.state_dict().items():
        assert torch.equal(model.state_dict()[name], value), name
    train.run(args)
    assert json.loads((tuned / "train_config.json").read_text())["init_weights"].endswith("last.safetensors")
    with pytest.raises(SystemExit):
        train.parse_args(argv + ["--init-backbone", str(first / "last.safetensors")])


def test_a_resumed_leg_takes_what_it_leaves_out_from_the_run(box_dataset, tmp_path, capsys):
    out = tmp_path / "run"
    assert train_main(box_dataset, out, "--max-steps", "4", "--leg-steps", "2", "--max-scenes", "1") == 0
    assert train.main(["--out", str(out), "--resume"]) == 0  # config, recipe, data, threads, scenes, budget: stored
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["step"] == 4
    first, second = [r for r in train.read_legs(out) if r["event"] == "start"]
    for key in ("data", "splits", "max_scenes", "threads", "budget", "sequences"):
        assert second[key] == first[key], key
    assert second["max_scenes"] == 1 and second["threads"] == 1


def test_a_resumed_run_that_lost_its_description_gets_it_rebuilt_and_held(box_dataset, tmp_path, capsys):
    out = tmp_path / "run"
    assert train_main(box_dataset, out, "--max-steps", "4", "--leg-steps", "1", "--lr", "1e-4") == 0
    (out / train.TRAIN_CONFIG_FILE).unlink()
    capsys.readouterr()
    assert train_main(box_dataset, out, "--resume", "--leg-steps", "1", "--lr", "1e-4") == 0
    assert "was missing; rebuilt" in capsys.readouterr().err
    rebuilt = json.loads((out / train.TRAIN_CONFIG_FILE).read_text())
    assert rebuilt["train"]["lr"] == 1e-4 and "was missing" in rebuilt["reconstructed"]
    assert rebuilt["budget"] == {"max_steps": 4, "max_minutes": None}
    # The next leg is held to the rebuilt recipe and does not rebuild it again.
    assert train_main(box_dataset, out, "--resume", "--lr", "3e-4") == 2
    assert "lr=0.0001 (this command: 0.0003)" in capsys.readouterr().err
    assert train_main(box_dataset, out, "--resume") == 0
    assert "rebuilt" not in capsys.readouterr().err
    assert json.loads((out / train.TRAIN_CONFIG_FILE).read_text())["reconstructed"] == rebuilt["reconstructed"]


def test_balanced_class_weights_favour_rare_classes_and_keep_the_mean():
    counts = torch.tensor([900, 100, 0, 1])
    weights = train.balanced_class_weights(counts, 0.5)
    assert weights[2] == 1.0  # never a target
    assert weights[0] < 1.0 < weights[1] <= weights[3]
    assert weights[3] == train.CLASS_WEIGHT_RANGE[1]  # 1 occurrence: clipped
    unclipped = train.balanced_class_weights(torch.tensor([900, 100]), 0.5)
    assert torch.isclose((unclipped * torch.tensor([900.0, 100.0])).sum() / 1000.0, torch.tensor(1.0))
    assert torch.isclose(unclipped[1] / unclipped[0], torch.tensor(3.0))  # sqrt(900 / 100)
    assert torch.equal(train.balanced_class_weights(counts, 0.0), torch.ones(4))
    with pytest.raises(ValueError, match="non-negative"):
        train.balanced_class_weights(torch.tensor([-1, 2]), 0.5)


def test_class_balanced_run_records_its_weights_from_the_targets(box_dataset, tmp_path, capsys):
    from perception.data import class_occurrences, dataset_vocabulary

    vocabulary = dataset_vocabulary(box_dataset)
    scenes = load_scenes(sequence_dirs(box_dataset, ["train"]), 64, progress=False)
    counts = class_occurrences(scenes, len(vocabulary))
    seen = {vocabulary[c] for c in np.flatnonzero(counts)}
    assert "DiningTable" in seen and seen <= {box.object_type for box in BOXES} | {"Floor", "Wall"}
    frames = sum(len(scene) for scene in scenes)
    assert 0 < counts[vocabulary.index("DiningTable")] <= frames  # once per frame that shows it, at most

    out = tmp_path / "balanced"
    run_train(box_dataset, out, 1, "--class-balance", "0.5")
    record = json.loads((out / "class_weights.json").read_text())
    assert record["class_balance"] == 0.5
    assert {name for name, entry in record["classes"].items() if entry["targets"]} == seen
    assert json.loads((out / "train_config.json").read_text())["train"]["class_balance"] == 0.5
    with pytest.raises(ValueError, match="class_balance=0.5"):  # a resumed run keeps its recipe
        run_train(box_dataset, out, 1, "--class-balance", "0.25")
    with pytest.raises(SystemExit):
        train.parse_args(["--out", str(out), "--max-steps", "1", "--class-balance", "2"])
    assert "--class-balance must be in [0, 1]" in capsys.readouterr().err


def test_voxel_targets_run_is_recorded_and_kept_on_resume(tmp_path, capsys):
    """--targets-3d voxel supervises 3D batches per voxel (another loss than per pixel from the same weights and
    batch), is stored in train_config.json, and a resumed run refuses another value, also one that predates it."""
    # Frames of two poses, each twice. With seed 6 the first step is a 3D batch of frames 1, 2, 3: pose 0 once and
    # pose 1 twice, so per pixel pose 1's surfaces count double and per voxel once.
    data = write_box_dataset(tmp_path / "data", (("train", "FloorPlan1"),), poses=[POSES[0]] * 2 + [POSES[1]] * 2)
    recipe = train.TrainConfig(seed=6)
    assert train.step_kind(recipe, 0) == "3d"
    assert pick_views(4, 3, train.step_randomness(recipe, 0, 0)[0]) == [1, 2, 3]
    voxel, pixel = tmp_path / "voxel", tmp_path / "pixel"
    run_train(data, voxel, 1, "--seed", "6", "--targets-3d", "voxel")
    run_train(data, pixel, 1, "--seed", "6")
    first = [read_losses(run)[0] for run in (voxel, pixel)]
    assert [row["kind"] for row in first] == ["3d", "3d"]
    assert all(np.isfinite(float(row["loss"])) for row in first)
    assert abs(float(first[0]["loss_mask"]) - float(first[1]["loss_mask"])) > 1e-4, first
    assert json.loads((voxel / "train_config.json").read_text())["train"]["targets_3d"] == "voxel"
    assert json.loads((pixel / "train_config.json").read_text())["train"]["targets_3d"] == "pixel"

    with pytest.raises(ValueError, match="targets_3d='voxel' \\(this command: 'pixel'\\)"):
        run_train(data, voxel, 2, "--seed", "6", "--targets-3d", "pixel", "--change-budget")
    # A run recorded before the option existed was trained per pixel: it keeps that and refuses voxel.
    record = json.loads((pixel / "train_config.json").read_text())
    del record["train"]["targets_3d"]
    (pixel / "train_config.json").write_text(json.dumps(record))
    with pytest.raises(ValueError, match="targets_3d='pixel' \\(this command: 'voxel'\\)"):
        run_train(data, pixel, 2, "--seed", "6", "--targets-3d", "voxel", "--change-budget")

    with pytest.raises(SystemExit):
        train.parse_args(["--out", str(tmp_path / "x"), "--max-steps", "1", "--targets-3d", "mesh"])
    assert "--targets-3d" in capsys.readouterr().err
    with pytest.raises(ValueError, match="TrainConfig.targets_3d"):
        train.TrainConfig(targets_3d="mesh")


def test_init_weights_grows_a_checkpoint_deeper_with_identity_blocks(tmp_path):
    """A model with more blocks per backbone stage starts from a shallower checkpoint: shared weights copied, the new
    blocks identities (so the backbone computes exactly what the checkpoint's did) whose last norm scale then
    trains; any other difference is refused naming the file."""
    from perception.odin import Odin, get_config, save_checkpoint
    from perception.odin.checkpoint import CheckpointError

    torch.manual_seed(0)
    shallow = Odin(get_config("tiny"))
    with torch.no_grad():
        for p in shallow.backbone.parameters():
            p.add_(0.1 * torch.randn_like(p))  # not the init: norms with scale != 1, bias != 0
    path = tmp_path / "shallow.safetensors"
    save_checkpoint(shallow, path)
    shallow = load_checkpoint(path, device="cpu")
    deep = Odin(get_config("tiny").replace(name="tiny_deep", stage_depths=(2, 2, 2, 2)))
    assert train.init_weights_from(deep, path) == len(shallow.state_dict())
    for name, value in shallow.state_dict().items():
        assert torch.equal(deep.state_dict()[name], value), name
    images = torch.rand(2, 3, 64, 64)
    shallow.eval(), deep.eval()
    with torch.no_grad():
        for a, b in zip(shallow.backbone(images), deep.backbone(images)):
            assert torch.allclose(a, b, atol=1e-6)
    assert float(deep.backbone.stages[0][1].conv2[1].weight.abs().sum()) == 0.0
    assert float(deep.backbone.stages[0][1].conv1[0].weight.abs().sum()) > 0.0
    other = Odin(get_config("tiny").replace(name="tiny_wide", hidden_dim=48))
    with pytest.raises(CheckpointError, match="shallow.safetensors"):
        train.init_weights_from(other, path)
    assert get_config("small_deep").stage_depths == (2, 2, 2, 2)
    assert get_config("small_deep").replace(name="small", stage_depths=(1, 1, 1, 1)) == get_config("small")


def test_merged_datasets_link_every_sequence_once_and_train(tmp_path):
    """Two exports of the same floorplan join under unique names (the second as <scene>_x1), a scene pattern per
    source picks what each contributes, different vocabularies are refused naming the file, and the join trains."""
    from perception.merge_datasets import main as merge_main, merge_datasets

    first = write_box_dataset(tmp_path / "a", splits=(("train", "FloorPlan1"),))
    second = write_box_dataset(tmp_path / "b", splits=(("train", "FloorPlan1"),))
    out = tmp_path / "joined"
    assert merge_main([str(out), str(first), str(second)]) == 0
    names = sorted(d.name for d in sequence_dirs(out, ["train"]))
    assert names == ["FloorPlan1", "FloorPlan1_x1"]
    assert (out / "train" / "FloorPlan1_x1").resolve() == (second / "train" / "FloorPlan1").resolve()
    run_train(out, tmp_path / "run", 1)
    assert (tmp_path / "run" / "last.safetensors").is_file()
    only_first = merge_datasets(tmp_path / "some", [first, second], ["train"], ["FloorPlan1", "FloorPlan2"])
    assert only_first == {"train": ["FloorPlan1"]}
    plan = json.loads((second / "dataset.json").read_text())
    plan["vocabulary"] = plan["vocabulary"][::-1]
    (second / "dataset.json").write_text(json.dumps(plan))
    with pytest.raises(ValueError, match=r"b/dataset.json"):
        merge_datasets(tmp_path / "bad", [first, second], ["train"])



def _one_frame_sequence(directory):
    """A 100 px exported frame: a wall on the left half (id 1) and a 6 x 6 px object (id 2) at rows 70-75, columns
    80-85; red grows with the column and green with the row, so a crop's colours tell where it was taken."""
    import cv2
    from PIL import Image

    (directory / "color").mkdir(parents=True)
    (directory / "instance").mkdir()
    instance = np.zeros((100, 100), np.uint16)
    instance[:, :50] = 1
    instance[70:76, 80:86] = 2
    colour = np.zeros((100, 100, 3), np.uint8)
    colour[..., 0] = np.arange(100, dtype=np.uint8)[None, :] * 2
    colour[..., 1] = np.arange(100, dtype=np.uint8)[:, None] * 2
    cv2.imwrite(str(directory / "instance" / "0.png"), instance)
    Image.fromarray(colour).save(directory / "color" / "0.jpg", quality=100)
    return np.asarray(Image.open(directory / "color" / "0.jpg").convert("RGB")), instance


def test_zoom_crop_brings_the_small_object_closer_exactly(tmp_path):
    """The crop is a full-resolution square around the frame's only small object (the wall, half the frame, is never
    the centre), 35-75 % of the side and holding the whole object; its colour is that square resized, and its target
    covers the object's 36 pixels at the crop's scale - several times the cells the object covers in the whole
    frame. The same rng gives the same crop; no source directory or no small object: no crop, the frame is used."""
    import cv2

    from perception.data import SceneArrays, cell_coverage, zoom_crop

    stored, instance = _one_frame_sequence(tmp_path / "seq")
    classes = np.array([-1, 3, 5])
    frame_ids, frame_shares = cell_coverage(instance.astype(np.int32), classes, 8)
    whole = float(frame_shares[frame_ids.tolist().index(2)].sum()) / 255.0  # 36 / (100/8)^2 = 0.23 cells
    scene = SceneArrays("s", np.zeros((1, 32, 32, 3), np.uint8), None, np.ones((1, 32, 32), bool),
                        np.zeros((1, 32, 32), np.uint16), classes, [(frame_ids, frame_shares)], tmp_path / "seq")
    sides = set()
    for seed in range(12):
        crop = zoom_crop(scene, 0, random.Random(seed))
        assert crop.xyz is None and crop.color.shape == (1, 32, 32, 3) and crop.instance.shape == (1, 32, 32)
        ids, shares = crop.coverage[0]
        cells = float(shares[ids.tolist().index(2)].sum()) / 255.0
        side = 8 * np.sqrt(36 / cells)  # the crop's side in full-resolution pixels, from the object's share
        assert 33 <= side <= 77 and cells > 1.6 * whole
        side = int(round(side))
        sides.add(side)
        mean_red, mean_green = (float(crop.color[0, ..., c].mean()) for c in (0, 1))
        left, top = (int(round(m / 2 - (side - 1) / 2)) for m in (mean_red, mean_green))
        assert top <= 70 and top + side >= 76 and left <= 80 and left + side >= 86
        window = stored[top:top + side, left:left + side]
        expected = cv2.resize(window, (32, 32), interpolation=cv2.INTER_LINEAR if side < 32 else cv2.INTER_AREA)
        assert np.abs(expected.astype(int) - crop.color[0].astype(int)).max() <= 8
        again = zoom_crop(scene, 0, random.Random(seed))
        assert np.array_equal(again.color, crop.color) and np.array_equal(again.coverage[0][1], shares)
    assert len(sides) > 3  # the scale is drawn, not fixed

    batch = make_2d_batch([scene], [(0, 0)], random.Random(0), augment=True, zoom=1.0)
    assert float(batch["targets"][0]["masks"].sum(dim=(1, 2, 3)).min()) > 1.6 * whole
    unzoomed = make_2d_batch([scene], [(0, 0)], random.Random(0), augment=True, zoom=0.0)
    assert abs(float(unzoomed["targets"][0]["masks"][1].sum()) - whole) < 0.02
    no_source = SceneArrays("s", scene.color, None, scene.valid, scene.instance, classes, scene.coverage)
    assert zoom_crop(no_source, 0, random.Random(0)) is None
    only_wall = SceneArrays("s", scene.color, None, scene.valid, scene.instance, np.array([-1, 3, -1]),
                            scene.coverage, tmp_path / "seq")
    assert zoom_crop(only_wall, 0, random.Random(0)) is None  # the object unlabelled, the wall too big


def test_zoom_crops_are_part_of_the_recipe(box_dataset, tmp_path, capsys):
    out = tmp_path / "zoomed"
    result = run_train(box_dataset, out, 2, "--zoom-crops", "0.5")
    assert result["step"] == 2
    assert json.loads((out / "train_config.json").read_text())["train"]["zoom_crops"] == 0.5
    with pytest.raises(SystemExit):
        train.parse_args(["--config", "tiny", "--data", str(box_dataset), "--out", str(tmp_path / "x"),
                          "--max-steps", "1", "--zoom-crops", "1.5"])
    assert "--zoom-crops must be in [0, 1], got 1.5" in capsys.readouterr().err


def test_peak_mask_targets_lift_a_thin_object_and_are_part_of_the_recipe(box_dataset, tmp_path, capsys):
    """A 2-pixel-wide stick in a 300 px frame covers no stride-4 cell by half at 32 x 32 cells: its share targets stay
    faint; peak targets divide by its largest share, so its best cells are 1 and the ratios between cells are kept.
    An object that fills a cell is unchanged."""
    from perception.data import SceneArrays, cell_coverage, make_2d_batch, targets_for

    full = np.zeros((300, 300), dtype=np.int32)
    full[:150, :] = 1  # fills its cells: share 1 already
    full[200:260, 101:103] = 2  # a fork-like stick, 2 px wide, inside one column of cells
    classes = np.array([-1, 4, 7])
    ids, shares = cell_coverage(full, classes, 32)
    scene = SceneArrays("s", np.zeros((1, 128, 128, 3), np.uint8), np.zeros((1, 128, 128, 3), np.float32),
                        np.ones((1, 128, 128), bool), np.zeros((1, 128, 128), np.int32), classes, [(ids, shares)])
    share, peak = targets_for(scene, [0])["masks"], targets_for(scene, [0], peak=True)["masks"]
    assert float(share[1].max()) < 0.5  # faint everywhere
    assert float(peak[1].max()) == pytest.approx(1.0)
    stick = share[1] > 0
    assert torch.allclose(peak[1][stick] / share[1][stick], torch.full_like(share[1][stick], 1 / share[1].max()))
    assert torch.equal(peak[0], share[0])
    batch = make_2d_batch([scene], [(0, 0)], random.Random(0), augment=False, peak_targets=True)
    assert torch.equal(batch["targets"][0]["masks"], peak)

    out = tmp_path / "peak"
    assert run_train(box_dataset, out, 2, "--mask-targets", "peak")["step"] == 2
    assert json.loads((out / "train_config.json").read_text())["train"]["mask_targets"] == "peak"
    capsys.readouterr()
    assert train_main(box_dataset, out, "--resume", "--max-steps", "3", "--change-budget",
                      "--mask-targets", "share") == 2
    assert "mask_targets='peak' (this command: 'share')" in capsys.readouterr().err


def test_mask_positive_weight_is_part_of_the_recipe(box_dataset, tmp_path, capsys):
    out = tmp_path / "weighted"
    assert run_train(box_dataset, out, 2, "--mask-positive-weight", "20")["step"] == 2
    assert json.loads((out / "train_config.json").read_text())["train"]["mask_positive_weight"] == 20.0
    capsys.readouterr()
    assert train_main(box_dataset, out, "--resume", "--max-steps", "3", "--change-budget",
                      "--mask-positive-weight", "1") == 2
    assert "mask_positive_weight=20.0 (this command: 1.0)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        train.parse_args(["--config", "tiny", "--data", str(box_dataset), "--out", str(tmp_path / "x"),
                          "--max-steps", "1", "--mask-positive-weight", "0.5"])
    assert "--mask-positive-weight must be in [1, 10000], got 0.5" in capsys.readouterr().err


def test_matcher_positive_weight_is_part_of_the_recipe(box_dataset, tmp_path, capsys):
    out = tmp_path / "loss_only"
    assert run_train(box_dataset, out, 2, "--mask-positive-weight", "3", "--matcher-positive-weight", "1")["step"] == 2
    stored = json.loads((out / "train_config.json").read_text())["train"]
    assert (stored["mask_positive_weight"], stored["matcher_positive_weight"]) == (3.0, 1.0)
    capsys.readouterr()
    assert train_main(box_dataset, out, "--resume", "--max-steps", "3", "--change-budget",
                      "--matcher-positive-weight", "3") == 2
    assert "matcher_positive_weight=1.0 (this command: 3.0)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        train.parse_args(["--config", "tiny", "--data", str(box_dataset), "--out", str(tmp_path / "x"),
                          "--max-steps", "1", "--matcher-positive-weight", "0.5"])
    assert "--matcher-positive-weight must be in [1, 10000], got 0.5" in capsys.readouterr().err
    with pytest.raises(ValueError, match="matcher_positive_weight must be None or in"):
        train.TrainConfig(matcher_positive_weight=0.0)


def _scene_of_frames(class_lists):
    """A SceneArrays whose frame f has as targets one object of each class in ``class_lists[f]`` (id = class + 1)."""
    from perception.data import SceneArrays

    classes = np.array([-1] + list(range(6)))
    coverage = [(np.array([c + 1 for c in frame], dtype=np.int32), np.zeros((len(frame), 2, 2), np.uint8))
                for frame in class_lists]
    t = len(class_lists)
    return SceneArrays("s", np.zeros((t, 8, 8, 3), np.uint8), None, np.ones((t, 8, 8), bool),
                       np.zeros((t, 8, 8), np.uint16), classes, coverage)


def test_repeat_factors_follow_lvis_and_repeat_rare_frames():
    """LVIS repeat-factor sampling: class 0 in all 10 frames keeps r = 1; class 1 in 1 of 10 (f = 0.1) at t = 0.4
    gets sqrt(0.4 / 0.1) = 2, so its frame is listed twice; a frame with no target stays 1; t = 0 lists every frame
    once, in order; the list is a function of the seed (a resumed run rebuilds it)."""
    from perception.data import repeat_factors, repeated_frame_refs

    frames = [[0]] * 8 + [[0, 1], []]
    scene = _scene_of_frames(frames)
    class_factor, frame_factors = repeat_factors([scene], 6, 0.4)
    assert class_factor[0] == 1.0 and class_factor[1] == pytest.approx(2.0) and class_factor[5] == 1.0
    assert frame_factors[0].tolist() == [1.0] * 8 + [pytest.approx(2.0), 1.0]
    refs = repeated_frame_refs(frame_factors, seed=0)
    assert sorted(refs) == [(0, f) for f in range(8)] + [(0, 8), (0, 8), (0, 9)]
    plain = repeat_factors([scene], 6, 0.0)[1]
    assert repeated_frame_refs(plain, seed=3) == [(0, f) for f in range(10)]
    # a fractional factor: class 1 at t = 0.225 -> 1.5; over seeds about half of them list frame 8 twice
    half = repeat_factors([scene], 6, 0.225)[1]
    twice = [repeated_frame_refs(half, seed).count((0, 8)) for seed in range(200)]
    assert set(twice) == {1, 2} and 70 < twice.count(2) < 130
    assert repeated_frame_refs(half, 7) == repeated_frame_refs(half, 7)
    with pytest.raises(ValueError, match="threshold must be in"):
        repeat_factors([scene], 6, 1.5)


def test_zoom_crop_picks_its_object_by_class_weight(tmp_path):
    """Given class weights, the zoomed object is drawn in proportion to its class's weight: with the object's class
    weighted 0 next to another small object, the crop is always around the other one."""
    import cv2

    from perception.data import SceneArrays, cell_coverage, zoom_crop

    directory = tmp_path / "seq"
    _one_frame_sequence(directory)
    instance = cv2.imread(str(directory / "instance" / "0.png"), cv2.IMREAD_UNCHANGED)
    instance[10:16, 80:86] = 3  # a second small object, far above the first
    cv2.imwrite(str(directory / "instance" / "0.png"), instance)
    classes = np.array([-1, 3, 5, 4])
    coverage = cell_coverage(instance.astype(np.int32), classes, 8)
    scene = SceneArrays("s", np.zeros((1, 32, 32, 3), np.uint8), None, np.ones((1, 32, 32), bool),
                        np.zeros((1, 32, 32), np.uint16), classes, [coverage], directory)
    weights = np.ones(6)
    weights[5] = 0.0  # object 2's class
    weighted = [set(zoom_crop(scene, 0, random.Random(seed), weights).coverage[0][0].tolist()) for seed in range(20)]
    assert all(3 in ids for ids in weighted)
    unweighted = [set(zoom_crop(scene, 0, random.Random(seed)).coverage[0][0].tolist()) for seed in range(20)]
    assert any(3 not in ids and 2 in ids for ids in unweighted)


def test_repeat_factor_is_part_of_the_recipe(box_dataset, tmp_path, capsys):
    out = tmp_path / "rfs"
    assert run_train(box_dataset, out, 2, "--repeat-factor", "0.5", "--zoom-crops", "0.5")["step"] == 2
    assert json.loads((out / "train_config.json").read_text())["train"]["repeat_factor"] == 0.5
    assert "repeat-factor sampling (t=0.5)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        train.parse_args(["--config", "tiny", "--data", str(box_dataset), "--out", str(tmp_path / "x"),
                          "--max-steps", "1", "--repeat-factor", "2"])
    assert "--repeat-factor must be in [0, 1], got 2.0" in capsys.readouterr().err
    with pytest.raises(ValueError, match="repeat_factor must be in"):
        train.TrainConfig(repeat_factor=-0.1)


def test_held_out_loss_is_scored_at_the_start_every_n_steps_and_at_the_end(box_dataset, tmp_path, capsys):
    """--val-data scores fixed held-out batches without training: at step 0 (the weights the run starts from), every
    --val-every steps and at the leg's end, into val_losses.csv; the same weights score the same, the training's own
    batches do not change (losses.csv as without it), and a resumed leg appends without repeating a step."""
    plain = tmp_path / "plain"
    run_train(box_dataset, plain, 4, "--seed", "3")
    out = tmp_path / "run"
    run_train(box_dataset, out, 4, "--seed", "3", "--val-data", str(box_dataset), "--val-splits", "valid_unseen",
              "--val-every", "2", "--val-batches", "4")
    assert [r["loss"] for r in read_losses(out)] == [r["loss"] for r in read_losses(plain)]
    with open(out / "val_losses.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted({int(r["step"]) for r in rows}) == [0, 2, 4]
    assert {r["kind"] for r in rows} == {"3d", "2d", "all"}
    assert all(np.isfinite(float(r["loss"])) and float(r["loss"]) > 0 for r in rows)
    assert {int(r["batches"]) for r in rows if r["kind"] == "all"} == {4}
    by = {(int(r["step"]), r["kind"]): float(r["loss"]) for r in rows}
    assert by[(0, "all")] != by[(4, "all")]  # four optimiser steps changed what the model scores

    # the scores are a function of the weights: a fresh run from the step-4 weights starts at step 4's score
    again = tmp_path / "again"
    run_train(box_dataset, again, 1, "--seed", "3", "--init-weights", str(out / "last.safetensors"),
              "--val-data", str(box_dataset), "--val-splits", "valid_unseen", "--val-batches", "4")
    with open(again / "val_losses.csv") as handle:
        start = [r for r in csv.DictReader(handle) if r["step"] == "0" and r["kind"] == "all"]
    assert float(start[0]["loss"]) == pytest.approx(by[(4, "all")], rel=1e-4)

    run_train(box_dataset, out, 6, "--change-budget", "--val-data", str(box_dataset), "--val-splits",
              "valid_unseen", "--val-every", "2", "--val-batches", "4")
    with open(out / "val_losses.csv") as handle:
        steps = [int(r["step"]) for r in csv.DictReader(handle) if r["kind"] == "all"]
    assert steps == [0, 2, 4, 6]

    with pytest.raises(SystemExit):
        train.parse_args(["--out", str(tmp_path / "x"), "--max-steps", "1", "--val-every", "0"])
    assert "--val-every must be >= 1" in capsys.readouterr().err
