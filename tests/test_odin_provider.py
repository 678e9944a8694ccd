"""The odin / odin-2d providers on real embedded Events: well-formed detections at the event's resolution, a bounded
context window, the base class's memory update, and clear errors for bad checkpoints."""

import json
import warnings

import numpy as np
import pytest
import torch

import perception.odin_provider as odin_provider
from perception.dataset.vocabulary import class_vocabulary
from perception.detections import Detections
from perception.odin import CONFIGS, CheckpointError, Odin, save_checkpoint
from perception.odin.checkpoint import checksum_path_for, verify_checksum
from perception.providers import make_provider


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    return save_checkpoint(Odin(CONFIGS["tiny"]), tmp_path_factory.mktemp("ckpt") / "tiny.safetensors")


@pytest.fixture(scope="module")
def events():
    from envs import make_env

    with make_env(width=160, height=120) as env:
        first = env.reset(scene="FloorPlan1")
        turned = env.step(action="RotateRight")
        same_place = env.step(action="Pass")
    return first, turned, same_place


def check_detections(detections, event):
    assert isinstance(detections, Detections)
    assert detections.masks.shape[1:] == event.frame.shape[:2] and detections.masks.dtype == bool
    assert len(detections.class_names) == len(detections.scores) == len(detections)
    assert set(detections.class_names) <= set(class_vocabulary())
    assert np.all((detections.scores >= 0) & (detections.scores <= 1))
    assert all(mask.any() for mask in detections.masks)


def test_odin_provider_detects_on_real_events_with_a_bounded_window(tiny_checkpoint, events):
    provider = make_provider("odin", checkpoint=tiny_checkpoint, context_views=2, min_score=0.0, resolution=64,
                             threads=1)
    assert isinstance(provider, odin_provider.OdinProvider)
    first, turned, same_place = events
    for event, window in ((first, 1), (turned, 2), (same_place, 2)):
        detections = provider.observe(event)
        check_detections(detections, event)
        assert len(provider._views) == window
    assert len(detections) > 0  # min_score 0 keeps every distinct mask
    # The window is at most context_views; a repeat of the last pose replaced it rather than being added.
    assert not np.allclose(provider._views[-1]["pose"], provider._views[0]["pose"])
    assert provider.steps == 3 and len(provider.memory) > 0  # the base class fused them into the memory
    provider.reset()
    assert len(provider._views) == 0 and len(provider.memory) == 0


def test_cached_backbone_features_encode_each_view_once_and_change_nothing(tiny_checkpoint, events):
    options = dict(checkpoint=tiny_checkpoint, context_views=3, min_score=0.0, resolution=64, threads=1)
    cached = make_provider("odin", **options)
    fresh = make_provider("odin", cache_features=False, **options)
    encoded_views = []
    encode = cached.model.encode_views
    cached.model.encode_views = lambda images: encoded_views.append(images.shape[1]) or encode(images)
    first, turned, _ = events
    for event in (first, turned, first):  # a window of 1, 2, then 3 views
        a, b = cached.observe(event), fresh.observe(event)
        # batched and one-view convolutions may round differently: allow a stray pixel on a mask border
        assert a.class_names == b.class_names and a.masks.shape == b.masks.shape
        assert np.mean(a.masks != b.masks) < 1e-3
        assert np.allclose(a.scores, b.scores, atol=1e-4)
    assert encoded_views == [1, 1, 1]  # one backbone pass per new view, never the window again
    assert all("encoded" not in view for view in fresh._views)


def test_odin_2d_needs_no_depth_and_filters_by_score(tiny_checkpoint, events):
    first = events[0]
    provider = make_provider("odin-2d", checkpoint=tiny_checkpoint, min_score=0.0, resolution=64,
                             update_memory=False)
    assert provider.fusion is False and provider.context_views == 1
    depth = first.depth_frame
    try:
        first.depth_frame = None
        everything = provider.detect(first)
    finally:
        first.depth_frame = depth
    check_detections(everything, first)
    strict = make_provider("odin-2d", checkpoint=tiny_checkpoint, min_score=1.0, resolution=64).detect(first)
    assert len(strict) == 0 and strict.masks.shape == (0,) + first.frame.shape[:2]
    with pytest.raises(ValueError, match="depth"):
        provider3d = make_provider("odin", checkpoint=tiny_checkpoint, resolution=64)
        first.depth_frame = None
        try:
            provider3d.detect(first)
        finally:
            first.depth_frame = depth


def test_class_votes_keep_each_masks_likeliest_classes_and_score_by_their_sum(tiny_checkpoint, events):
    first = events[0]
    options = dict(checkpoint=tiny_checkpoint, min_score=0.0, resolution=64, update_memory=False)
    top = make_provider("odin-2d", **options).detect(first)
    soft = make_provider("odin-2d", class_votes=3, **options).detect(first)
    check_detections(soft, first)
    assert top.class_scores is None and len(soft.class_scores) == len(soft)
    for name, score, candidates in zip(soft.class_names, soft.scores, soft.class_scores):
        assert len(candidates) == 3 and max(candidates, key=candidates.get) == name
        assert score == pytest.approx(min(1.0, sum(candidates.values())), abs=1e-5)
    # the summed score is never below the top class's: a threshold keeps at least what it kept before
    threshold = float(np.median(top.scores)) if len(top) else 0.5
    strict_top = make_provider("odin-2d", **{**options, "min_score": threshold}).detect(first)
    strict_soft = make_provider("odin-2d", class_votes=3, **{**options, "min_score": threshold}).detect(first)
    assert len(strict_soft) >= len(strict_top)
    with pytest.raises(ValueError, match="class_votes"):
        make_provider("odin-2d", class_votes=0, **options)


@pytest.mark.filterwarnings("ignore:.*integrity is not checked")  # hand-made files, no hash beside them
def test_bad_checkpoints_fail_clearly(tiny_checkpoint, tmp_path):
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(b"not a safetensors file at all")
    (tmp_path / "corrupt.json").write_text(tiny_checkpoint.with_suffix(".json").read_text())
    with pytest.raises(CheckpointError, match="corrupt.safetensors"):
        make_provider("odin", checkpoint=corrupt)
    mismatched = tmp_path / "mismatched.safetensors"
    mismatched.write_bytes(tiny_checkpoint.read_bytes())
    CONFIGS["small"].to_json(tmp_path / "mismatched.json")
    with pytest.raises(CheckpointError, match="do not match"):
        make_provider("odin-2d", checkpoint=mismatched)
    with pytest.raises(CheckpointError, match="not found"):
        make_provider("odin", checkpoint=tmp_path / "absent.safetensors")
    with pytest.raises(ValueError, match="context_views"):
        make_provider("odin", checkpoint=tiny_checkpoint, context_views=0)


def test_shipped_small_checkpoint_is_the_default_and_fits_the_budget():
    shipped = odin_provider.DEFAULT_CHECKPOINT
    assert shipped.is_file() and shipped.stat().st_size < 25 * 2**20
    assert checksum_path_for(shipped).is_file()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        verify_checksum(shipped)  # the shipped small.sha256 matches the shipped weights
    provider = make_provider("odin", update_memory=False)  # no checkpoint given: the shipped one
    assert provider.model.config.name in CONFIGS  # a named config (small_deep since session 8)
    assert provider.resolution == odin_provider.trained_resolution(shipped)


def test_zoom_tiles_cover_the_frame_with_overlapping_crops_at_its_edges():
    boxes = odin_provider.zoom_tile_boxes(120, 160, 2, 0.6)
    assert boxes == [(0, 72, 0, 96), (0, 72, 64, 160), (48, 120, 0, 96), (48, 120, 64, 160)]
    covered = np.zeros((120, 160), dtype=int)
    for y0, y1, x0, x1 in odin_provider.zoom_tile_boxes(120, 160, 3, 0.4):
        assert y1 - y0 == 48 and x1 - x0 == 64
        covered[y0:y1, x0:x1] += 1
    assert covered.min() >= 1  # every pixel is in some crop


def _found(masks, names, scores):
    return np.asarray(masks, dtype=bool), list(names), np.asarray(scores, dtype=np.float32), None


def test_merge_zoomed_pastes_tile_instances_drops_cut_ones_and_keeps_duplicates_once():
    frame = np.zeros((1, 10, 10), dtype=bool)
    frame[0, 0:2, 0:2] = True  # the frame saw a mug in the corner
    found = _found(frame, ["Mug"], [0.5])
    box = (0, 6, 4, 10)  # a tile on the right half of the top: inner edges at its bottom (y=6) and left (x=4)
    tile = np.zeros((4, 6, 6), dtype=bool)
    tile[0, 2:4, 2:4] = True   # an apple well inside the tile -> pasted at rows 2-3, columns 6-7
    tile[1, 4:6, 0:2] = True   # touches the tile's inner left edge: cut by the crop, dropped
    tile[2, 0:2, 4:6] = True   # touches only the frame's own top / right edges: kept
    tile[3, 2:4, 2:4] = True   # the apple again under another name, lower score: a duplicate, dropped
    zoomed = [(box, _found(tile, ["Apple", "Bread", "Knife", "Tomato"], [0.4, 0.9, 0.35, 0.2]))]
    masks, names, scores, candidates = odin_provider.merge_zoomed(found, zoomed, max_overlap=0.8)
    assert names == ["Mug", "Apple", "Knife"] and candidates is None
    assert masks.shape == (3, 10, 10)
    assert masks[1, 2:4, 6:8].all() and masks[1].sum() == 4
    assert masks[2, 0:2, 8:10].all() and masks[2].sum() == 4
    assert np.allclose(scores, [0.5, 0.4, 0.35])
    # Only the classes asked for, and only instances up to max_area of the frame, come from the crops.
    assert odin_provider.merge_zoomed(found, zoomed, 0.8, classes={"Apple", "Tomato"})[1] == ["Mug", "Apple"]
    assert odin_provider.merge_zoomed(found, zoomed, 0.8, max_area=0.03)[1] == ["Mug"]


def test_odin_provider_zoom_adds_the_tiles_instances(tiny_checkpoint, events):
    first = events[0]
    common = dict(checkpoint=tiny_checkpoint, min_score=0.0, resolution=64, threads=1)
    base = make_provider("odin-2d", **common).detect(first)
    every = make_provider("odin-2d", zoom_tiles=2, zoom_fraction=0.6, zoom_classes=class_vocabulary(), zoom_max_area=1.0, zoom_min_score=0.0,
                          **common).detect(first)
    check_detections(every, first)
    assert len(every) > len(base)
    # Every frame instance is still there (tile instances only add, or replace a duplicate with a better score).
    for mask, score in zip(base.masks, base.scores):
        ious = [(mask & other).sum() / (mask | other).sum() for other in every.masks]
        assert max(ious) > 0.8 or score < every.scores.max()
    # By default only pickupable types come from the crops: the rest is exactly the frame's own.
    default = make_provider("odin-2d", zoom_tiles=2, **common)
    assert "Mug" in default.zoom_classes and "Cabinet" not in default.zoom_classes
    picked = default.detect(first)
    added = [name for name, mask in zip(picked.class_names, picked.masks)
             if not any((mask == other).all() for other in base.masks)]
    assert set(added) <= default.zoom_classes
    assert sorted(n for n in picked.class_names if n not in default.zoom_classes) == \
        sorted(n for n in base.class_names if n not in default.zoom_classes)
    with pytest.raises(ValueError, match="zoom_tiles"):
        make_provider("odin-2d", checkpoint=tiny_checkpoint, zoom_tiles=1)
    with pytest.raises(ValueError, match="uncovered"):
        make_provider("odin-2d", checkpoint=tiny_checkpoint, zoom_tiles=2, zoom_fraction=0.4)


def test_a_checkpoint_without_its_recipe_runs_at_the_default_size_with_a_warning(tiny_checkpoint, tmp_path):
    """A checkpoint copied without the recipe that names its input size runs at 128 px, said aloud (a 192 px model
    run at 128 loses a third of its 3D AP50); with the recipe beside it, its size and no warning."""
    with pytest.warns(UserWarning, match="tiny.safetensors"):
        assert odin_provider.trained_resolution(tiny_checkpoint) == odin_provider.DEFAULT_RESOLUTION
    copied = tmp_path / "tiny.safetensors"
    for suffix in (".safetensors", ".json", ".sha256"):
        source = tiny_checkpoint.with_suffix(suffix)
        if source.is_file():
            copied.with_suffix(suffix).write_bytes(source.read_bytes())
    (tmp_path / "train_config.json").write_text(json.dumps({"train": {"resolution": 96}}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert odin_provider.trained_resolution(copied) == 96
