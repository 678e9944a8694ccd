"""Evaluate an ODIN checkpoint: 3D instance AP on fused sequence point clouds and 2D COCO AP on single frames.

    python -m perception.evaluate --checkpoint perception/checkpoints/small.safetensors --data /tmp/odin_data
    python -m perception.evaluate --checkpoint runs/odin_2d/last.safetensors --data ... --fusion off   # 2D, lifted
    python -m perception.evaluate --checkpoint ... --data ... --context-views 1 4 8 0                 # context ablation

Protocol (``ayushjain1144/odin`` at 9c67a0b: ``odin/data_video/``), on unseen floorplans (``valid_unseen`` +
``test_unseen``):

* **3D**: the points of every view with depth, at model resolution, voxelised (``--voxel``, 5 cm) into one cloud per
  sequence. A voxel's ground truth is the instance most of its pixels show (0 = no object). A predicted instance owns
  the voxels where more than half of its pixels lie inside its mask. Scored with :func:`perception.metrics.instance_ap`
  (ScanNet AP / AP50 / AP25, per class then mean).
* **Views per forward** (``--context-views``): ``0`` runs ODIN once over all views of a sequence, as ODIN's test
  does; ``N`` runs chunks of N consecutive views and merges the per-chunk instances in 3D (same class, shared voxels
  >= 20% of the smaller instance, highest score kept). With ``--fusion off`` every view goes through the 2D path
  alone and is lifted to 3D the same way: the "no 3D fusion" baseline.
* **2D**: each frame's masks (from the same forward passes; with ``--context-views 1`` or ``--fusion off`` a single
  frame) resized to the frame, scored by ``pycocotools`` COCOeval (segm) against ``OUT/coco_<split>.json``. Data
  exported with object views (``make_dataset --object-views N``: close-ups after each look-around) also get 2D AP
  over the look-around frames and over the object views apart (``2d.look_around``, ``2d.object_views``).
* **What objects are taken for** (``2d.taken_for``, a table in the ``.md``): per ground-truth class, how many of its
  objects some confident mask covers and how many that mask names right, with the classes it names instead, to tell
  masks never found from objects found and misnamed; and how many a mask of the right class would let the agent click
  (its most interior pixel on the object, whatever the IoU: the figure for thin objects).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import sys
import time
from pathlib import Path

from envs.cli import ArgumentParser

from .cli import DEFAULT_EVAL_OUT, command_line, refuse_to_overwrite

DEFAULT_SPLITS = ("valid_unseen", "test_unseen")
SKIP_CLASSES = ("Floor", "Wall")
"""Left out of AP as in ODIN's AI2-THOR evaluation (``SKIP_CLASSES`` of ``scripts/ai2thor/ai2thor_resnet.sh``)."""


def parse_args(argv=None) -> argparse.Namespace:
    parser = ArgumentParser(prog="python -m perception.evaluate", description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", type=Path, required=True,
                        help="ODIN weights (.safetensors, its .json config beside it; the recipe is read from "
                             "<name>.train.json or the run's train_config.json beside it)")
    parser.add_argument("--data", type=Path, required=True, help="dataset directory from perception.make_dataset")
    parser.add_argument("--splits", nargs="+", default=list(DEFAULT_SPLITS),
                        help="dataset splits to evaluate (each must be in DATA/dataset.json, checked first)")
    parser.add_argument("--mode", choices=("3d", "2d", "both"), default="both",
                        help="3d = instance AP on fused voxel clouds; 2d = COCO AP per frame; both")
    parser.add_argument("--fusion", choices=("auto", "on", "off"), default="auto",
                        help="3D fusion at test time; auto = as trained (off for the no-3d-fusion ablation)")
    parser.add_argument("--context-views", type=int, nargs="+", default=[0],
                        help="views per forward; 0 = all views of a sequence; several values = one row each")
    parser.add_argument("--resolution", type=int, default=None, help="model input size (default: as trained)")
    parser.add_argument("--voxel", type=float, default=0.05, help="voxel size (m) of the evaluated point cloud")
    parser.add_argument("--min-region-size", type=int, default=10, help="voxels; smaller instances are ignored")
    parser.add_argument("--skip-classes", nargs="*", default=list(SKIP_CLASSES),
                        help="class names left out of AP (ODIN skips Wall and Floor)")
    parser.add_argument("--max-sequences", type=int, default=None,
                        help="evaluate only the first N sequences per split (quick checks; default: all)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--out", type=Path, default=DEFAULT_EVAL_OUT,
                        help="directory for eval_<label>.json and eval_<label>.md")
    parser.add_argument("--label", default=None,
                        help="file label and table row name (default: the checkpoint's file name without suffix)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace eval_<label>.* even when another command wrote them (without it such files "
                             "are refused before any work; a rerun of the same command replaces its own)")
    args = parser.parse_args(argv)
    if any(v < 0 for v in args.context_views):
        parser.error(f"--context-views must be >= 0, got {args.context_views}")
    for name, value, low in (("--threads", args.threads, 1), ("--max-sequences", args.max_sequences, 1),
                             ("--min-region-size", args.min_region_size, 0), ("--resolution", args.resolution, 32)):
        if value is not None and value < low:
            parser.error(f"{name} must be >= {low}, got {value}")
    if args.resolution is not None and args.resolution % 32:
        parser.error(f"--resolution must be a multiple of 32, got {args.resolution}")
    if not args.voxel > 0:
        parser.error(f"--voxel must be > 0, got {args.voxel}")
    if args.label is not None and (not args.label or "/" in args.label or args.label in (".", "..")):
        parser.error(f"--label must be a plain file-name part, got {args.label!r}")
    if args.out.exists() and not args.out.is_dir():
        parser.error(f"--out {args.out} exists and is not a directory")
    return args


if __name__ == "__main__":
    parse_args()  # --help and bad arguments answer before the imports below load torch (about 5 s)

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from envs.jsonfile import read_json  # noqa: E402

from .data import SceneArrays, dataset_vocabulary, resize_sequence, sequence_dirs  # noqa: E402
from .metrics import SceneInstances, instance_ap  # noqa: E402
from .odin import load_checkpoint  # noqa: E402
from .odin.checkpoint import training_settings  # noqa: E402
from .odin_provider import trained_resolution  # noqa: E402


# --------------------------------------------------------------------------------------------------- inference
def view_chunks(num_frames: int, context_views: int) -> list[list[int]]:
    """Consecutive chunks of ``context_views`` frames (0 = one chunk of all frames)."""
    size = num_frames if context_views <= 0 else context_views
    return [list(range(start, min(start + size, num_frames))) for start in range(0, num_frames, size)]


@torch.no_grad()
def predict_chunk(model, scene: SceneArrays, frames: list[int], vocabulary: list[str], fusion: bool,
                  top_k: int) -> dict:
    """Instances of one forward over ``frames``: masks (K, V, h, w) bool, labels (K,), scores (K,)."""
    images = torch.from_numpy(scene.color[frames].astype(np.float32) / 255.0).permute(0, 3, 1, 2)[None]
    xyz = torch.from_numpy(scene.xyz[frames])[None] if fusion else None
    valid = torch.from_numpy(scene.valid[frames])[None] if fusion else None
    result = model.predict(images, vocabulary, xyz, valid, top_k=top_k)[0]
    return {"masks": result["masks"].numpy(), "labels": result["labels"].numpy(), "scores": result["scores"].numpy()}


# ------------------------------------------------------------------------------------------------------- 3D
def voxel_cloud(scene: SceneArrays, voxel: float) -> tuple[np.ndarray, int, np.ndarray]:
    """Voxel index per valid pixel (flat over (T, h, w); -1 = no depth), voxel count, and each voxel's ground-truth
    instance id by majority of its pixels."""
    valid = scene.valid.reshape(-1)
    keys = np.floor(scene.xyz.reshape(-1, 3)[valid] / voxel).astype(np.int64)
    _, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    count = int(inverse.max()) + 1 if inverse.size else 0
    pixel_voxel = np.full(valid.shape[0], -1, dtype=np.int64)
    pixel_voxel[valid] = inverse
    ids = scene.instance.reshape(-1)[valid]
    pairs, votes = np.unique(np.stack([inverse, ids], 1), axis=0, return_counts=True)
    # Sort by votes so the last write per voxel is its majority id.
    order = np.argsort(votes, kind="stable")
    gt = np.zeros(count, dtype=np.int64)
    gt[pairs[order, 0]] = pairs[order, 1]
    return pixel_voxel, count, gt


def lift_masks(masks: np.ndarray, pixel_voxel: np.ndarray, num_voxels: int) -> np.ndarray:
    """(K, P_chunk) pixel masks -> (K, num_voxels) voxel masks: more than half of a voxel's pixels inside."""
    inside = pixel_voxel >= 0
    voxels = pixel_voxel[inside]
    pixels_per_voxel = np.bincount(voxels, minlength=num_voxels)
    lifted = np.zeros((len(masks), num_voxels), dtype=bool)
    for k, mask in enumerate(masks):
        hits = np.bincount(voxels[mask[inside]], minlength=num_voxels)
        lifted[k] = hits * 2 > pixels_per_voxel
    lifted[:, pixels_per_voxel == 0] = False
    return lifted


def merge_instances(instances: list[tuple[np.ndarray, int, float]], min_overlap: float) -> list[tuple]:
    """Greedy 3D merge across chunks, best score first: an instance joins an earlier one of its class when their shared
    voxels are at least ``min_overlap`` of the smaller of the two (union of voxels, the higher score kept). Overlap of
    the smaller rather than IoU, because two views of one object see different parts of it."""
    merged: list[list] = []
    for voxels, label, score in sorted(instances, key=lambda item: -item[2]):
        if not voxels.any():
            continue
        best, best_overlap = None, min_overlap
        for entry in merged:
            if entry[1] != label:
                continue
            intersection = np.count_nonzero(entry[0] & voxels)
            if intersection == 0:
                continue
            overlap = intersection / min(np.count_nonzero(entry[0]), np.count_nonzero(voxels))
            if overlap >= best_overlap:
                best, best_overlap = entry, overlap
        if best is None:
            merged.append([voxels.copy(), label, score])
        else:
            best[0] |= voxels
    return [tuple(entry) for entry in merged]


def scene_instances_3d(scene: SceneArrays, chunk_predictions: list[tuple[list[int], dict]], voxel: float,
                       merge_overlap: float, min_score: float) -> SceneInstances:
    pixel_voxel, num_voxels, gt = voxel_cloud(scene, voxel)
    frame_pixels = scene.valid[0].size
    per_frame = pixel_voxel.reshape(len(scene), frame_pixels)
    instances = []
    for frames, prediction in chunk_predictions:
        keep = prediction["scores"] >= min_score
        if not keep.any():
            continue
        masks = prediction["masks"][keep].reshape(int(keep.sum()), -1)
        lifted = lift_masks(masks, per_frame[frames].reshape(-1), num_voxels)
        instances += list(zip(lifted, prediction["labels"][keep].tolist(), prediction["scores"][keep].tolist()))
    if len(chunk_predictions) > 1:
        instances = merge_instances(instances, merge_overlap)
    gt_classes = {int(i): int(scene.class_of_instance[i]) for i in np.unique(gt) if i > 0}
    # An instance id whose class is unknown (-1) counts as void.
    gt = np.where(np.isin(gt, [i for i, c in gt_classes.items() if c < 0]), 0, gt)
    gt_classes = {i: c for i, c in gt_classes.items() if c >= 0}
    if instances:
        masks = np.stack([m for m, _, _ in instances])
        labels = np.array([label for _, label, _ in instances])
        scores = np.array([score for _, _, score in instances])
    else:
        masks, labels, scores = np.zeros((0, num_voxels), dtype=bool), np.zeros(0), np.zeros(0)
    return SceneInstances(gt, gt_classes, masks, labels, scores, name=scene.name)


# ------------------------------------------------------------------------------------------------------- 2D
def coco_detections(prediction: dict, view: int, image_id: int, height: int, width: int,
                    min_score: float) -> list[dict]:
    """COCO result entries (RLE segmentation at the frame's size) of one view of a chunk's instances."""
    from pycocotools import mask as mask_utils

    results = []
    for mask, label, score in zip(prediction["masks"][:, view], prediction["labels"], prediction["scores"]):
        if score < min_score or not mask.any():
            continue
        full = cv2.resize(mask.astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST)
        rle = mask_utils.encode(np.asfortranarray(full))
        rle["counts"] = rle["counts"].decode("ascii")
        results.append({"image_id": image_id, "category_id": int(label) + 1, "segmentation": rle,
                        "score": float(score)})
    return results


def coco_ap(ground_truth, results: list[dict], image_ids: list[int], class_names: list[str],
            skip_classes: tuple[str, ...] = ()) -> dict:
    """COCOeval segm AP / AP50 / AP75 overall and AP per class (classes without ground truth are left out), over the
    categories not named in ``skip_classes``."""
    from pycocotools.cocoeval import COCOeval

    if not results:
        return {"AP": 0.0, "AP50": 0.0, "AP75": 0.0, "per_class": {}}
    with contextlib.redirect_stdout(io.StringIO()):
        detections = ground_truth.loadRes([dict(r) for r in results])  # loadRes adds fields: keep ours reusable
        evaluator = COCOeval(ground_truth, detections, "segm")
        evaluator.params.imgIds = image_ids
        evaluator.params.catIds = [i + 1 for i, name in enumerate(class_names) if name not in skip_classes]
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    precision = evaluator.eval["precision"]  # (T, R, K, A, M)
    per_class = {}
    for k, category in enumerate(evaluator.params.catIds):
        values = precision[:, :, k, 0, -1]
        values = values[values > -1]
        if values.size:
            per_class[class_names[category - 1]] = float(values.mean())
    return {"AP": float(evaluator.stats[0]), "AP50": float(evaluator.stats[1]), "AP75": float(evaluator.stats[2]),
            "per_class": per_class}


TAKEN_FOR_MIN_SCORE = 0.3
"""Score from which a 2D instance counts in :func:`taken_for` (the memory's default confidence for its precision)."""


def taken_for(ground_truth, results: list[dict], image_ids: list[int], class_names: list[str],
              skip_classes: tuple[str, ...] = (), min_score: float = TAKEN_FOR_MIN_SCORE, min_iou: float = 0.5,
              into: dict | None = None) -> dict:
    """What each ground-truth object of the frames is taken for: per class, its ``instances``, how many some
    predicted mask of score >= ``min_score`` covers at mask IoU >= ``min_iou`` (``segmented``), how many of those the
    highest-scoring such mask names right (``named``), and what it names them instead (``as``: class -> count). This
    splits AP's misses into masks never found and objects found but mistaken for another class.

    ``clicked``: objects that the agent could act on from this frame, mask IoU aside: some mask of their class and
    score >= ``min_score`` has its click pixel (the mask's most interior pixel, as ``agent.executor`` clicks) on the
    object. TEACh resolves a click at its exact pixel first (``envs.clicks``), and the pixel beside a thin object
    is another object (the counter under a fork), so the pixel must be on it. It is the figure for thin objects
    (a fork 2 px wide at 300 px) whose masks no stride-4 decoder draws at IoU 0.5 but which a blob on them still
    lets the agent pick up. Counts are added to ``into`` when given (to pool splits)."""
    from pycocotools import mask as mask_utils

    table = {} if into is None else into
    by_image: dict[int, list[dict]] = {}
    for result in results:
        if result["score"] >= min_score:
            by_image.setdefault(result["image_id"], []).append(result)
    for image_id in image_ids:
        annotations = [a for a in ground_truth.imgToAnns.get(image_id, [])
                       if not a.get("iscrowd") and class_names[a["category_id"] - 1] not in skip_classes]
        if not annotations:
            continue
        found = by_image.get(image_id, [])
        if found:
            overlap = np.asarray(mask_utils.iou([f["segmentation"] for f in found],
                                                [ground_truth.annToRLE(a) for a in annotations],
                                                [0] * len(annotations)))
            clicks = [click_pixel_of(mask_utils.decode(f["segmentation"])) for f in found]
        for k, annotation in enumerate(annotations):
            row = table.setdefault(class_names[annotation["category_id"] - 1],
                                   {"instances": 0, "segmented": 0, "named": 0, "clicked": 0, "as": {}})
            row.setdefault("clicked", 0)
            row["instances"] += 1
            if found:
                same_class = [clicks[i] for i in range(len(found))
                              if found[i]["category_id"] == annotation["category_id"] and clicks[i] is not None]
                if same_class:
                    object_mask = ground_truth.annToMask(annotation)
                    if any(object_mask[r, c] for r, c in same_class):
                        row["clicked"] += 1
            covering = [i for i in range(len(found)) if overlap[i, k] >= min_iou] if found else []
            if not covering:
                continue
            row["segmented"] += 1
            best = max(covering, key=lambda i: found[i]["score"])
            if found[best]["category_id"] == annotation["category_id"]:
                row["named"] += 1
            else:
                other = class_names[found[best]["category_id"] - 1]
                row["as"][other] = row["as"].get(other, 0) + 1
    return table


def click_pixel_of(mask: np.ndarray) -> tuple[int, int] | None:
    """(row, col) of a mask's most interior pixel (largest distance to its outside; the first in row-major order on a
    tie), where ``agent.executor`` clicks an object; None for an empty mask."""
    if not mask.any():
        return None
    inside = cv2.distanceTransform(np.pad(mask.astype(np.uint8), 1), cv2.DIST_L2, 5)[1:-1, 1:-1]
    return tuple(int(v) for v in np.unravel_index(int(np.argmax(inside)), inside.shape))


def format_taken_for(table: dict, min_instances: int = 1) -> str:
    """Markdown: per ground-truth class (most instances first), segmented and named in percent and the classes it is
    most often taken for."""
    lines = [f"What ground-truth objects are taken for (2D, instances of score >= {TAKEN_FOR_MIN_SCORE}, mask IoU >= "
             "0.5; named: the best-scoring covering mask has the right class; clicked: a mask of its class has its "
             "click pixel, its most interior one, on the object, whatever the IoU)", "",
             "| class | instances | segmented % | named % | clicked % | taken for |", "|---|---|---|---|---|---|"]
    for name, row in sorted(table.items(), key=lambda item: (-item[1]["instances"], item[0])):
        if row["instances"] < min_instances:
            continue
        mistaken = sorted(row["as"].items(), key=lambda item: (-item[1], item[0]))[:3]
        clicked = f"{100 * row['clicked'] / row['instances']:.0f}" if "clicked" in row else "-"
        lines.append(f"| {name} | {row['instances']} | {100 * row['segmented'] / row['instances']:.0f} | "
                     f"{100 * row['named'] / row['instances']:.0f} | {clicked} | "
                     f"{', '.join(f'{other} {count}' for other, count in mistaken) or '-'} |")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------------- runner
def evaluate(model, data_dir: Path, splits: list[str], resolution: int, fusion: bool, context_views: int,
             modes: tuple[str, ...], voxel: float = 0.05, merge_overlap: float = 0.2, min_score: float = 0.01,
             min_region_size: int = 10, max_sequences: int | None = None, progress: bool = True,
             skip_classes: tuple[str, ...] = SKIP_CLASSES) -> dict:
    from pycocotools.coco import COCO
    from tqdm import tqdm

    vocabulary = dataset_vocabulary(data_dir)
    model.eval()
    scenes_3d, coco_results, image_ids, coco_ground_truth = [], [], [], {}
    seconds = 0.0
    for split in splits:
        directories = sequence_dirs(data_dir, [split])[:max_sequences]
        if "2d" in modes:
            coco_path = data_dir / f"coco_{split}.json"
            if not coco_path.is_file():
                raise FileNotFoundError(f"{coco_path}: missing; rerun perception.make_dataset for split {split}")
            with contextlib.redirect_stdout(io.StringIO()):
                coco_ground_truth[split] = COCO(str(coco_path))
            lookup = {(img["sequence"], img["frame"]): img for img in coco_ground_truth[split].dataset["images"]}
        split_results, split_images, split_object_views = [], [], []
        for directory in tqdm(directories, desc=f"evaluate {split}", unit="seq", disable=not progress):
            scene = resize_sequence(directory, resolution)
            look_around = read_json(directory / "meta.json").get("look_around_views") or len(scene)
            chunks = view_chunks(len(scene), 1 if not fusion else context_views)
            predictions = []
            for frames in chunks:
                tic = time.monotonic()
                predictions.append((frames, predict_chunk(model, scene, frames, vocabulary, fusion,
                                                          model.config.num_queries)))
                seconds += time.monotonic() - tic
            if "3d" in modes:
                scenes_3d.append(scene_instances_3d(scene, predictions, voxel, merge_overlap, min_score))
            if "2d" in modes:
                for frames, prediction in predictions:
                    for view, frame in enumerate(frames):
                        image = lookup[(directory.name, frame)]
                        split_images.append(image["id"])
                        if frame >= look_around:
                            split_object_views.append(image["id"])
                        split_results += coco_detections(prediction, view, image["id"], image["height"],
                                                         image["width"], min_score)
        if "2d" in modes:
            coco_results.append((split, split_results, split_images, split_object_views))
    report = {"splits": list(splits), "skip_classes": list(skip_classes), "resolution": resolution, "fusion": fusion,
              "context_views": context_views,
              "sequences": len(scenes_3d) if "3d" in modes else None, "inference_seconds": round(seconds, 1)}
    if "3d" in modes:
        report["3d"] = instance_ap(scenes_3d, vocabulary, min_region_size, skip_classes)
        report["3d"]["voxel"] = voxel
        report["3d"]["min_region_size"] = min_region_size
    if "2d" in modes:
        report["2d"] = coco_report(coco_ground_truth, [(split, results, images)
                                                      for split, results, images, _ in coco_results],
                                   vocabulary, skip_classes)
        confusion: dict = {}
        for split, results, images, _ in coco_results:
            taken_for(coco_ground_truth[split], results, images, vocabulary, skip_classes, into=confusion)
        report["2d"]["taken_for"] = confusion
        if any(close for *_, close in coco_results):
            # Sequences exported with object views (make_dataset --object-views): the close-ups apart from the
            # look-around, as an agent that walks up to a counter sees it.
            report["2d"]["look_around"] = coco_report(coco_ground_truth, [
                (split, results, sorted(set(images) - set(close))) for split, results, images, close in coco_results],
                vocabulary, skip_classes)
            report["2d"]["object_views"] = coco_report(coco_ground_truth, [
                (split, results, close) for split, results, _, close in coco_results], vocabulary, skip_classes)
    return report


def coco_report(ground_truth: dict, results: list[tuple[str, list[dict], list[int]]], vocabulary: list[str],
                skip_classes: tuple[str, ...]) -> dict:
    """2D AP per split over the given image ids (splits without any left out), and AP / AP50 weighted by frames."""
    per_split = {split: coco_ap(ground_truth[split], found, images, vocabulary, skip_classes)
                 for split, found, images in results if images}
    frames = {split: len(images) for split, _, images in results if images}
    total = sum(frames.values())
    return {"per_split": per_split, "frames": frames,
            "AP": sum(per_split[s]["AP"] * frames[s] for s in per_split) / max(total, 1),
            "AP50": sum(per_split[s]["AP50"] * frames[s] for s in per_split) / max(total, 1)}


def format_table(rows: list[tuple[str, dict]]) -> str:
    """Markdown: one line per evaluated setting, AP figures in percent."""
    close = any("object_views" in (report.get("2d") or {}) for _, report in rows)
    extra = " 2D AP50 look-around | 2D AP50 object views |" if close else ""
    lines = ["| setting | 3D AP | 3D AP50 | 3D AP25 | 2D AP | 2D AP50 |" + extra,
             "|---|---|---|---|---|---|" + ("---|---|" if close else "")]

    def pct(section, key):
        value = (section or {}).get(key)
        return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{100 * value:.1f}"

    for label, report in rows:
        three, two = report.get("3d"), report.get("2d") or {}
        line = (f"| {label} | {pct(three, 'AP')} | {pct(three, 'AP50')} | {pct(three, 'AP25')} | "
                f"{pct(two, 'AP')} | {pct(two, 'AP50')} |")
        if close:
            line += f" {pct(two.get('look_around'), 'AP50')} | {pct(two.get('object_views'), 'AP50')} |"
        lines.append(line)
    return "\n".join(lines)


def check_splits(data_dir: Path, splits: list[str], modes: tuple[str, ...]) -> None:
    """Every requested split is in ``dataset.json`` with finished sequences (and its COCO file for 2D), checked before
    any work; one error names everything missing."""
    from .data import dataset_splits

    known = dataset_splits(data_dir)
    missing = [split for split in splits if split not in known]
    if missing:
        present = [split for split in splits if split in known]
        raise ValueError(f"{data_dir / 'dataset.json'} has no split {', '.join(map(repr, missing))}; it has "
                         f"{sorted(known)}" + (f" (evaluate what there is with --splits {' '.join(present)})"
                                               if present else ""))
    for split in splits:
        sequence_dirs(data_dir, [split])  # raises naming the split when none of its sequences is finished
        if "2d" in modes and not (data_dir / f"coco_{split}.json").is_file():
            raise FileNotFoundError(f"{data_dir / f'coco_{split}.json'}: missing; rerun perception.make_dataset "
                                    f"for split {split} (or --mode 3d)")


def main(argv=None) -> int:
    args = parse_args(argv)
    command = command_line("perception.evaluate", argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    label = args.label or args.checkpoint.stem
    stem = f"eval_{label}"
    modes = ("3d", "2d") if args.mode == "both" else (args.mode,)
    try:
        refuse_to_overwrite([args.out / f"{stem}.json", args.out / f"{stem}.md"], command, args.overwrite)
        check_splits(args.data, args.splits, modes)
        settings = training_settings(args.checkpoint)
        model = load_checkpoint(args.checkpoint)
        resolution = args.resolution or trained_resolution(args.checkpoint)  # warns when no recipe names it
        fusion = settings.get("use_3d", True) if args.fusion == "auto" else args.fusion == "on"
        rows = []
        for context in args.context_views:
            report = evaluate(model, args.data, args.splits, resolution, fusion, context, modes, voxel=args.voxel,
                              min_region_size=args.min_region_size, max_sequences=args.max_sequences,
                              skip_classes=tuple(args.skip_classes))
            views = "all" if context == 0 else str(context)
            row = f"{label} ({'3D fusion' if fusion else '2D, lifted'}, {views} views/forward)" if fusion else \
                f"{label} (2D only, lifted to 3D)"
            rows.append((row, report))
    except (FileNotFoundError, ValueError) as error:
        print(f"perception.evaluate: {error}", file=sys.stderr)
        return 2
    table = format_table(rows)
    print(table)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{stem}.json").write_text(json.dumps({"command": command, "rows": [
        {"setting": name, **report} for name, report in rows]}, indent=1) + "\n")
    sections = [table] + [(f"{name}\n\n" if len(rows) > 1 else "") + format_taken_for(report["2d"]["taken_for"])
                          for name, report in rows if "taken_for" in (report.get("2d") or {})]
    (out / f"{stem}.md").write_text(f"`{command}`\n\n" + "\n\n".join(sections) + "\n")
    print(f"wrote {out / (stem + '.json')} and {out / (stem + '.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
