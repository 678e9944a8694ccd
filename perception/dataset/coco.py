"""COCO instance-segmentation annotations of exported sequences (the format ``pycocotools.coco.COCO`` reads).

One file per split, built from the finished sequences on disk (so a resumed export yields the same file): an image per
frame (``file_name`` relative to the dataset root), an annotation per visible instance with a compressed RLE mask
(``pycocotools.mask.encode``), its area and [x, y, w, h] box, ``category_id`` over the class vocabulary and
``iscrowd`` 0, plus the simulator ``object_id`` and sequence ``instance_index`` for 2D/3D cross reference.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

import numpy as np

from envs.jsonfile import read_json
from pycocotools import mask as mask_utils

from .scannet import _read_png16
from .writer import INSTANCES_FILE, META_FILE


def encode_mask(mask: np.ndarray) -> dict:
    """Binary (H, W) mask -> COCO compressed RLE with ``counts`` as text (JSON-serialisable)."""
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    rle["counts"] = rle["counts"].decode("ascii")
    return rle


def build_coco(root: str | Path, sequence_dirs: Iterable[str | Path], vocabulary: list[str] | tuple[str, ...],
               min_area: int = 1) -> dict:
    """COCO dict over the frames of ``sequence_dirs`` (each under ``root``)."""
    root = Path(root)
    images, annotations = [], []
    for directory in sorted(Path(d) for d in sequence_dirs):
        meta = read_json(directory / META_FILE)
        instances_file = read_json(directory / INSTANCES_FILE)
        table = instances_file["instances"]
        if list(instances_file["vocabulary"]) != list(vocabulary):
            raise ValueError(f"{directory / INSTANCES_FILE}: its class vocabulary differs from the dataset's")
        for frame in range(int(meta["n_frames"])):
            image_id = len(images) + 1
            images.append({
                "id": image_id, "width": int(meta["width"]), "height": int(meta["height"]),
                "file_name": (directory / "color" / f"{frame}.jpg").relative_to(root).as_posix(),
                "sequence": directory.name, "frame": frame, "scene": meta.get("scene"),
            })
            instance_map = _read_png16(directory / "instance" / f"{frame}.png")
            for index in np.unique(instance_map):
                entry = table.get(str(int(index)))
                if index == 0 or entry is None or not entry["class_id"]:
                    continue
                rle = encode_mask(instance_map == index)
                area = int(mask_utils.area(rle))
                if area < min_area:
                    continue
                annotations.append({
                    "id": len(annotations) + 1, "image_id": image_id, "category_id": int(entry["class_id"]),
                    "segmentation": rle, "area": area, "bbox": [float(v) for v in mask_utils.toBbox(rle)],
                    "iscrowd": 0, "object_id": entry["objectId"], "instance_index": int(index),
                })
    categories = [{"id": i + 1, "name": name, "supercategory": "object"} for i, name in enumerate(vocabulary)]
    return {"info": {"description": "posed RGB-D frames of the embedded AI2-THOR world"},
            "images": images, "annotations": annotations, "categories": categories}


def write_coco(path: str | Path, coco: dict) -> Path:
    path = Path(path)
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(coco))
    temporary.replace(path)
    return path
