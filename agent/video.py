"""Per-episode debugging videos: what the agent saw, where it thinks things are, and what it was doing.

:class:`EpisodeVideo` is driven by ``agent.run_teach`` (``--save-video``): ``start(instance_id, dialogue)`` opens
``<out_dir>/<instance_id>.mp4``, ``frame(observation, action, executor)`` appends one panel after every step, and
``finish(record)`` appends a closing card with the episode's scores and closes the file. Each panel has three parts,
side by side and ``size`` pixels tall:

* **view**: the egocentric RGB frame with the provider's detections overlaid (a translucent colour per class, mask
  outlines, the class name at each sizeable mask's centre) and the click point of the last object action;
* **map**: the executor's own occupancy map (:meth:`agent.mapping.OccupancyMap.render`: floor light grey, obstacles
  dark, unknown black), the 3D semantic memory's instances as dots coloured by class (task-relevant and confident ones
  labelled), the path walked so far, and the agent as an arrow pointing along its yaw;
* **captions**: step number, action (TEACh name, click x, y) and its outcome, the running skill, what is held, the
  skills finished so far, the executor's latest note, and the dialogue (wrapped; the last lines that fit).

Everything is drawn with OpenCV primitives on small uint8 arrays (no matplotlib), and the static parts (the dialogue)
are drawn once per episode, so a frame costs a few milliseconds. Observations without detections or memory, and a
missing executor (``TeachModel`` plug-ins), give the same layout with those parts left empty.
"""

from __future__ import annotations

import colorsys
import math
import re
import textwrap
import zlib
from pathlib import Path
from typing import Iterable, Sequence

import cv2
import numpy as np

FONT = cv2.FONT_HERSHEY_SIMPLEX
WHITE = (255, 255, 255)
BLACK = (0, 0, 0)
GREY = (170, 170, 170)
GREEN = (90, 220, 90)
RED = (240, 80, 80)
YELLOW = (255, 220, 60)
CYAN = (80, 210, 240)
PATH_COLOUR = (60, 140, 255)
AGENT_COLOUR = (255, 60, 60)
CAPTION_BACKGROUND = (24, 24, 28)
SPEAKER_COLOURS = {"commander": (255, 200, 120), "driver": (150, 200, 255)}

MIN_HALF_EXTENT = 3.0
MAX_HALF_EXTENT = 11.5
"""Half the width (metres) of the map window: it frames what was seen so far, and only grows within an episode."""
LABEL_MIN_PIXELS = 120
"""Masks smaller than this (in frame pixels) are tinted but not named, to keep the view legible."""
CONFIDENT = 0.6
"""Memory instances at least this confident are labelled on the map when there is room."""
MAX_MAP_LABELS = 12
STRUCTURE = frozenset({"Floor", "Wall", "Ceiling"})
"""Classes whose centroid says nothing about where things are: not drawn on the map."""


def class_colour(class_name: str) -> tuple[int, int, int]:
    """A stable, saturated RGB colour per class name (hue from a CRC of the name, so it is the same in every run)."""
    hue = (zlib.crc32(class_name.encode("utf-8")) % 360) / 360.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.85, 1.0)
    return int(r * 255), int(g * 255), int(b * 255)


def put_text(image: np.ndarray, text: str, origin: tuple[int, int], scale: float = 0.4,
             colour: tuple[int, int, int] = WHITE, outline: bool = False, thickness: int = 1) -> None:
    """``cv2.putText`` (anti-aliased), with an optional dark outline so labels read on any background."""
    x, y = int(origin[0]), int(origin[1])
    if outline:
        cv2.putText(image, text, (x, y), FONT, scale, BLACK, thickness + 2, cv2.LINE_AA)
    cv2.putText(image, text, (x, y), FONT, scale, colour, thickness, cv2.LINE_AA)


def text_width(text: str, scale: float, thickness: int = 1) -> int:
    return int(cv2.getTextSize(text, FONT, scale, thickness)[0][0])


def wrap(text: str, width_px: int, scale: float) -> list[str]:
    """Greedy word wrap of ``text`` to ``width_px`` pixels of Hershey Simplex at ``scale`` (estimated per character,
    then checked, so a line never overflows)."""
    average = max(1.0, text_width("the quick brown fox jumps over a lazy dog", scale) / 41.0)
    columns = max(8, int(width_px / average))
    lines: list[str] = []
    for line in textwrap.wrap(text, columns, break_long_words=True) or [""]:
        while text_width(line, scale) > width_px and len(line) > 8:
            cut = line.rfind(" ", 0, len(line) - 1)
            cut = cut if cut > 0 else len(line) - 1
            lines.append(line[:cut])
            line = line[cut:].lstrip()
        lines.append(line)
    return lines


def place_label(taken: list[tuple[int, int, int, int]], box: tuple[int, int, int, int]) -> bool:
    """Reserve ``box`` (x0, y0, x1, y1) for a label unless it overlaps one already placed; returns whether it did."""
    if any(not (box[2] < b[0] or box[0] > b[2] or box[3] < b[1] or box[1] > b[3]) for b in taken):
        return False
    taken.append(box)
    return True


def fit(text: str, width_px: int, scale: float) -> str:
    """``text`` cut (with an ellipsis) to fit ``width_px``."""
    if text_width(text, scale) <= width_px:
        return text
    while text and text_width(text + "...", scale) > width_px:
        text = text[:-1]
    return text + "..."


class EpisodeVideo:
    """Writes one MP4 per episode to ``out_dir`` (``<instance_id>.mp4``, OpenCV ``mp4v``) at ``fps`` frames a second;
    panels are ``size`` pixels tall: view (size x size), map (size x size), captions (1.4 size wide).

    ``card_seconds`` of a closing card (success, goal conditions, steps) end every video."""

    def __init__(self, out_dir: str | Path, fps: int = 4, size: int = 300, card_seconds: float = 2.0):
        if size < 120:
            raise ValueError(f"EpisodeVideo: size must be at least 120 pixels, got {size}")
        self.out_dir = Path(out_dir)
        self.fps = int(fps)
        self.size = int(size) // 2 * 2
        self.caption_width = int(round(self.size * 1.4)) // 2 * 2
        self.width = 2 * self.size + self.caption_width
        self.height = self.size
        self.card_frames = max(1, int(round(card_seconds * self.fps)))
        self.scale = 0.38 * self.size / 300.0
        self.line = max(10, int(round(14 * self.size / 300.0)))
        self.writer: cv2.VideoWriter | None = None
        self.path: Path | None = None
        self.frames = 0
        self._last_panel: np.ndarray | None = None
        self._grid_shape: tuple[int, int] | None = None
        self._grid: tuple[np.ndarray, np.ndarray] = (np.zeros(0), np.zeros(0))
        self._reset_episode()

    # ------------------------------------------------------------------ episode lifecycle
    def _reset_episode(self) -> None:
        self.instance_id = ""
        self.positions: list[tuple[float, float]] = []
        self._bounds: tuple[int, int, int, int] | None = None
        self.window: tuple[float, int, int, int] | None = None
        self._dialogue_lines: list[tuple[str, tuple[int, int, int]]] = []
        self._relevant: set[str] = set()
        self._relevant_from: int | None = None
        self._origin: np.ndarray | None = None

    def start(self, instance_id: str, dialogue: Iterable[Sequence[str]] = ()) -> Path:
        """Open ``<out_dir>/<instance_id>.mp4`` (closing any video left open) and lay out the dialogue once;
        ``dialogue`` is TEACh's ``dialog_history``: ``(speaker, utterance)`` pairs. Returns the path."""
        if self.writer is not None:
            self.writer.release()
        self._reset_episode()
        self.instance_id = str(instance_id)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", self.instance_id) or "episode"
        self.path = self.out_dir / f"{safe}.mp4"
        self.writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*"mp4v"), float(self.fps),
                                      (self.width, self.height))
        if not self.writer.isOpened():
            self.writer = None
            raise OSError(f"EpisodeVideo: OpenCV could not open {self.path} for writing (mp4v)")
        self.frames = 0
        self._last_panel = None
        width = self.caption_width - 12
        for turn in dialogue:
            speaker, text = (str(turn[0]), str(turn[1])) if len(turn) >= 2 else ("", str(turn[0]))
            colour = SPEAKER_COLOURS.get(speaker.lower(), WHITE)
            tag = (speaker[:1].upper() + ": ") if speaker else ""
            for k, line in enumerate(wrap(tag + text, width, self.scale)):
                self._dialogue_lines.append((line if k == 0 else "   " + line, colour))
        return self.path

    def frame(self, observation, action=None, executor=None) -> np.ndarray:
        """Append the panel for the step that produced ``observation`` (after ``action``); returns the panel (RGB).
        ``executor`` (an :class:`agent.executor.Executor`, or None) supplies the map, the skill and the notes."""
        position = getattr(observation, "agent_position", None)
        if position is not None:
            self.positions.append((float(position[0]), float(position[2])))
            if self._origin is None:
                self._origin = np.asarray(position, dtype=float)
        panel = np.empty((self.height, self.width, 3), dtype=np.uint8)
        relevant = self._relevant_types(executor, observation)
        panel[:, : self.size] = self._view(observation, action, relevant)
        panel[:, self.size: 2 * self.size] = self._map(observation, executor, relevant)
        panel[:, 2 * self.size:] = self._captions(observation, action, executor)
        self._write(panel)
        self._last_panel = panel
        return panel

    def finish(self, record: dict | None = None) -> Path | None:
        """Append the closing card (success, goal conditions, steps, failed actions, error) and close the file;
        returns its path (None if :meth:`start` was never called)."""
        if self.writer is None:
            return None
        card = self._card(record or {})
        for _ in range(self.card_frames):
            self._write(card)
        self.writer.release()
        self.writer = None
        path = self.path
        self._reset_episode()
        return path

    def close(self) -> None:
        """Release a writer left open (an episode that never finished)."""
        if self.writer is not None:
            self.writer.release()
            self.writer = None

    def _write(self, panel: np.ndarray) -> None:
        if self.writer is None:
            raise RuntimeError("EpisodeVideo: frame() or finish() before start()")
        self.writer.write(cv2.cvtColor(panel, cv2.COLOR_RGB2BGR))
        self.frames += 1

    # ------------------------------------------------------------------ view: RGB + detections + click
    def _view(self, observation, action, relevant: set[str] = frozenset()) -> np.ndarray:
        rgb = np.asarray(getattr(observation, "rgb", None) if observation is not None else None)
        if rgb.ndim != 3 or rgb.shape[2] < 3:
            out = np.zeros((self.size, self.size, 3), dtype=np.uint8)
            put_text(out, "no frame", (10, self.size // 2), self.scale, GREY)
            return out
        rgb = rgb[..., :3]
        if rgb.dtype != np.uint8:
            rgb = np.clip(rgb * (255.0 if rgb.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
        height, width = rgb.shape[:2]
        image = rgb.copy()
        labels_to_draw: list[tuple] = []  # (name, col, row, colour, sort key)
        detections = getattr(observation, "detections", None)
        if detections is not None and len(detections) and tuple(detections.masks.shape[1:]) == (height, width):
            labels = detections.to_label_image()
            colours = np.zeros((len(detections) + 1, 3), dtype=np.uint8)
            for k, name in enumerate(detections.class_names):
                colours[k + 1] = class_colour(str(name))
            # cv2.copyTo with a mask writes in place and is several times faster than numpy's masked assignment.
            overlay = np.take(colours, labels, axis=0)
            tinted = (labels > 0).view(np.uint8)
            cv2.copyTo(cv2.addWeighted(image, 0.55, overlay, 0.45, 0.0), tinted, image)
            edges = np.zeros(labels.shape, dtype=bool)
            edges[:-1] |= labels[:-1] != labels[1:]
            edges[:, :-1] |= labels[:, :-1] != labels[:, 1:]
            cv2.copyTo((overlay >> 1) + np.uint8(40), edges.view(np.uint8), image)
            # Label positions from every other pixel: a quarter of the work, and the same centres to a pixel.
            coarse = labels[::2, ::2].ravel()
            rows, cols = self._pixel_grid(labels.shape)
            counts = np.bincount(coarse, minlength=len(detections) + 1) * 4
            sum_rows = np.bincount(coarse, weights=rows, minlength=len(detections) + 1) * 4
            sum_cols = np.bincount(coarse, weights=cols, minlength=len(detections) + 1) * 4
            for k, name in enumerate(detections.class_names):
                n = counts[k + 1]
                if n >= LABEL_MIN_PIXELS or (name in relevant and n >= LABEL_MIN_PIXELS // 4):
                    labels_to_draw.append((str(name), int(sum_cols[k + 1] / n), int(sum_rows[k + 1] / n),
                                           tuple(int(c) for c in colours[k + 1]), (name not in relevant, -n)))
            labels_to_draw.sort(key=lambda item: item[4])  # task-relevant first, then the largest masks
        factor = self.size / float(height)
        out_width = max(1, int(round(width * factor)))
        image = cv2.resize(image, (out_width, self.size), interpolation=cv2.INTER_AREA if factor < 1
                           else cv2.INTER_LINEAR)
        if out_width != self.size:  # letterbox a non-square frame into the square view
            square = np.zeros((self.size, self.size, 3), dtype=np.uint8)
            if out_width > self.size:
                left = (out_width - self.size) // 2
                square[:] = image[:, left: left + self.size]
                offset = -left
            else:
                offset = (self.size - out_width) // 2
                square[:, offset: offset + out_width] = image
            image = square
        else:
            offset = 0
        small = self.scale * 0.9
        taken: list[tuple[int, int, int, int]] = []
        for name, col, row, colour, (ordinary, _) in labels_to_draw:
            w = text_width(name, small)
            x = min(max(int(col * factor) + offset - w // 2, 1), self.size - w - 1)
            y = min(max(int(row * factor) + 4, 10), self.size - 3)
            if not place_label(taken, (x, y - 10, x + w, y + 3)):
                continue
            put_text(image, name, (x, y), small, WHITE if ordinary else YELLOW, outline=True)
        if action is not None and getattr(action, "x", None) is not None and getattr(action, "y", None) is not None:
            cx = int(round(float(action.x) * width * factor)) + offset
            cy = int(round(float(action.y) * self.size))
            ok = bool(getattr(observation, "last_action_success", True))
            colour = YELLOW if ok else RED
            cv2.circle(image, (cx, cy), 9, BLACK, 3, cv2.LINE_AA)
            cv2.circle(image, (cx, cy), 9, colour, 2, cv2.LINE_AA)
            cv2.line(image, (cx - 14, cy), (cx - 5, cy), colour, 2, cv2.LINE_AA)
            cv2.line(image, (cx + 5, cy), (cx + 14, cy), colour, 2, cv2.LINE_AA)
            cv2.line(image, (cx, cy - 14), (cx, cy - 5), colour, 2, cv2.LINE_AA)
            cv2.line(image, (cx, cy + 5), (cx, cy + 14), colour, 2, cv2.LINE_AA)
        return image

    def _pixel_grid(self, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """Row and column (float, raveled) of every other pixel of a frame of ``shape``, made once per shape."""
        if self._grid_shape != shape:
            rows, cols = np.indices(shape)
            self._grid = (rows[::2, ::2].ravel().astype(np.float64), cols[::2, ::2].ravel().astype(np.float64))
            self._grid_shape = shape
        return self._grid

    # ------------------------------------------------------------------ map: occupancy + memory + path + pose
    def _map_frame(self, occupancy) -> tuple[np.ndarray, float, int]:
        """(origin thor xyz, cell metres, grid cells n) of the map's coordinates: the occupancy map's if there is one,
        else a 5 cm grid around the first position seen (the same conventions as ``OccupancyMap.to_cell``)."""
        if occupancy is not None:
            return np.asarray(occupancy.origin, dtype=float), float(occupancy.cell), int(occupancy.n)
        origin = self._origin if self._origin is not None else np.zeros(3)
        return origin, 0.05, int(round(2 * MAX_HALF_EXTENT / 0.05))

    def _grow_bounds(self, rows: np.ndarray, cols: np.ndarray) -> None:
        """Extend the (row, col) cell box of everything shown so far; it never shrinks within an episode, so the
        map does not jitter."""
        if len(rows) == 0:
            return
        box = (int(rows.min()), int(rows.max()), int(cols.min()), int(cols.max()))
        if self._bounds is None:
            self._bounds = box
        else:
            b = self._bounds
            self._bounds = (min(b[0], box[0]), max(b[1], box[1]), min(b[2], box[2]), max(b[3], box[3]))

    def _window(self, cell: float, n: int) -> tuple[int, int, int]:
        """The square of cells shown, (top row, left col, side), centred on the bounds plus a margin, at least
        ``2 * MIN_HALF_EXTENT`` and at most ``2 * MAX_HALF_EXTENT`` metres wide."""
        margin = int(round(0.5 / cell))
        low, high = int(round(2 * MIN_HALF_EXTENT / cell)), int(round(2 * MAX_HALF_EXTENT / cell))
        if self._bounds is None:
            r0, r1, c0, c1 = n // 2, n // 2, n // 2, n // 2
        else:
            r0, r1, c0, c1 = self._bounds
        side = min(high, max(low, r1 - r0 + 1 + 2 * margin, c1 - c0 + 1 + 2 * margin))
        top = (r0 + r1 + 1) // 2 - side // 2
        left = (c0 + c1 + 1) // 2 - side // 2
        return top, left, side

    def _map(self, observation, executor, relevant: set[str] = frozenset()) -> np.ndarray:
        occupancy = getattr(executor, "map", None) if executor is not None else None
        origin, cell, n = self._map_frame(occupancy)

        def to_cells(x, z) -> tuple[np.ndarray, np.ndarray]:
            row = np.floor((np.asarray(z, dtype=float) - origin[2]) / cell + n / 2)
            col = np.floor((np.asarray(x, dtype=float) - origin[0]) / cell + n / 2)
            return row.astype(np.int64), col.astype(np.int64)

        memory = getattr(observation, "memory", None) if observation is not None else None
        instances = []
        if memory is not None:
            try:
                instances = list(memory.instances())
            except Exception:  # noqa: BLE001 - a foreign memory object must not break the video
                instances = []
        named = [(str(i.class_name), i) for i in instances]
        named = [(name, i) for name, i in named if name not in STRUCTURE]
        instances = [i for _, i in named]
        centroids = np.array([np.asarray(i.centroid, dtype=float) for i in instances]).reshape(-1, 3)
        path = np.asarray(self.positions, dtype=float).reshape(-1, 2)
        if occupancy is not None:
            seen = occupancy.floor | occupancy.obstacle
            rows = np.flatnonzero(seen.any(axis=1))
            cols = np.flatnonzero(seen.any(axis=0))
            if len(rows) and len(cols):
                self._grow_bounds(rows[[0, -1]], cols[[0, -1]])
        self._grow_bounds(*to_cells(path[:, 0], path[:, 1]))
        self._grow_bounds(*to_cells(centroids[:, 0], centroids[:, 2]))
        top, left, side = self._window(cell, n)
        # OccupancyMap.render draws the cells within half_extent of the origin, z up: cell row R is picture row
        # n // 2 + r - 1 - R. Render just enough to cover the window, then cut the window out (padding off-map parts).
        reach = max(abs(top - n // 2), abs(top + side - n // 2), abs(left - n // 2), abs(left + side - n // 2))
        half = min(MAX_HALF_EXTENT, math.ceil((reach + 1) * cell * 2) / 2)
        r = int(half / cell)
        picture_top, picture_left = n // 2 + r - (top + side), left - (n // 2 - r)
        # The panel's map is render(half_extent=half, scale=1)[picture_top:+side, picture_left:+side], resized.
        self.window = (half, picture_top, picture_left, side)
        crop = np.zeros((side, side, 3), dtype=np.uint8)
        if occupancy is not None:
            base = occupancy.render(half_extent=half, scale=1)
            y0, x0 = max(picture_top, 0), max(picture_left, 0)
            y1, x1 = min(picture_top + side, base.shape[0]), min(picture_left + side, base.shape[1])
            if y1 > y0 and x1 > x0:
                crop[y0 - picture_top: y1 - picture_top, x0 - picture_left: x1 - picture_left] = base[y0:y1, x0:x1]
        factor = self.size / float(side)
        image = cv2.resize(crop, (self.size, self.size), interpolation=cv2.INTER_NEAREST)

        def to_pixels(x: np.ndarray, z: np.ndarray) -> np.ndarray:
            row, col = to_cells(x, z)
            return np.stack([(col - left + 0.5) * factor, (top + side - 1 - row + 0.5) * factor],
                            axis=-1).astype(np.int32)

        metres = max(1, int(round(side * cell / 6)))
        bar = int(metres / cell * factor)
        cv2.line(image, (8, self.size - 10), (8 + bar, self.size - 10), WHITE, 2)
        put_text(image, f"{metres} m", (12 + bar, self.size - 6), self.scale * 0.8, WHITE, outline=True)
        if len(path) >= 2:
            cv2.polylines(image, [to_pixels(path[:, 0], path[:, 1]).reshape(-1, 1, 2)], False, PATH_COLOUR, 1,
                          cv2.LINE_AA)
        labels: list[tuple[float, str, tuple[int, int], tuple[int, int, int]]] = []
        if len(instances):
            pixels = to_pixels(centroids[:, 0], centroids[:, 2])
            for (name, inst), (px, py) in zip(named, pixels):
                colour = class_colour(name)
                confidence = float(getattr(inst, "confidence", 1.0))
                important = name in relevant
                radius = 4 if important else 3
                cv2.circle(image, (int(px), int(py)), radius + 1, BLACK, -1, cv2.LINE_AA)
                cv2.circle(image, (int(px), int(py)), radius, colour, -1, cv2.LINE_AA)
                if important:
                    cv2.circle(image, (int(px), int(py)), radius + 3, WHITE, 1, cv2.LINE_AA)
                if important or confidence >= CONFIDENT:
                    labels.append(((0 if important else 1) - confidence, name, (int(px), int(py)), colour))
        labels.sort(key=lambda item: item[0])
        taken: list[tuple[int, int, int, int]] = []
        small = self.scale * 0.8
        for _, name, (px, py), colour in labels[:MAX_MAP_LABELS]:
            w = text_width(name, small)
            x = min(max(px + 6, 1), self.size - w - 1)
            y = min(max(py + 4, 10), self.size - 3)
            if not place_label(taken, (x, y - 9, x + w, y + 2)):
                continue
            put_text(image, name, (x, y), small, colour, outline=True)
        position = getattr(observation, "agent_position", None)
        if position is not None:
            (ax, ay), = to_pixels(np.array([float(position[0])]), np.array([float(position[2])]))
            yaw = math.radians(float(getattr(observation, "yaw", 0.0)))
            tip = (int(ax + 13 * math.sin(yaw)), int(ay - 13 * math.cos(yaw)))
            cv2.arrowedLine(image, (int(ax), int(ay)), tip, BLACK, 4, cv2.LINE_AA, tipLength=0.45)
            cv2.arrowedLine(image, (int(ax), int(ay)), tip, AGENT_COLOUR, 2, cv2.LINE_AA, tipLength=0.45)
            cv2.circle(image, (int(ax), int(ay)), 3, AGENT_COLOUR, -1, cv2.LINE_AA)
        if occupancy is None:
            put_text(image, "no occupancy map", (8, 16), self.scale, GREY)
        cv2.line(image, (0, 0), (0, self.size - 1), (60, 60, 60), 1)
        return image

    def _relevant_types(self, executor, observation) -> set[str]:
        """Object types the program names (alternatives and TEACh classes expanded), plus what is held."""
        if executor is not None and self._relevant_from != id(executor):
            self._relevant_from = id(executor)
            relevant: set[str] = set()
            program = getattr(executor, "program", None)
            for call in getattr(program, "steps", None) or []:
                for value in (getattr(call, "args", None) or {}).values():
                    if not isinstance(value, str):
                        continue
                    try:
                        relevant.update(executor.types_of(value))
                    except Exception:  # noqa: BLE001 - not our Executor: take the names as written
                        relevant.update(part.strip() for part in value.split("|"))
            self._relevant = relevant
        held = getattr(observation, "held", None) or ()
        return self._relevant | set(held)

    # ------------------------------------------------------------------ captions
    def _captions(self, observation, action, executor) -> np.ndarray:
        width = self.caption_width
        image = np.empty((self.height, width, 3), dtype=np.uint8)
        image[:] = CAPTION_BACKGROUND
        x, y, line, scale = 8, self.line + 2, self.line, self.scale
        room = width - 2 * x
        step = getattr(observation, "step", self.frames)
        ok = bool(getattr(observation, "last_action_success", True))
        if action is not None:
            name = getattr(action, "teach_name", None) or str(getattr(action, "name", action))
            if getattr(action, "x", None) is not None and getattr(action, "y", None) is not None:
                name += f" ({float(action.x):.2f}, {float(action.y):.2f})"
        else:
            name = "-"
        put_text(image, f"step {step}", (x, y), scale * 1.1, WHITE, thickness=1)
        put_text(image, fit(name, room - 140, scale * 1.1), (x + 80, y), scale * 1.1, CYAN)
        status = "ok" if ok else "FAILED"
        put_text(image, status, (width - x - text_width(status, scale * 1.1), y), scale * 1.1, GREEN if ok else RED)
        y += line
        if not ok:
            error = str(getattr(observation, "last_error", "") or "")
            if error:
                put_text(image, fit(error, room, scale * 0.9), (x, y), scale * 0.9, RED)
                y += line
        current = str(getattr(executor, "current", "") or "") if executor is not None else ""
        put_text(image, fit("skill: " + (current or "-"), room, scale), (x, y), scale, YELLOW)
        y += line
        held = getattr(observation, "held", None) or ()
        put_text(image, fit("held: " + (", ".join(map(str, held)) or "nothing"), room, scale), (x, y), scale, WHITE)
        y += line
        records = list(getattr(executor, "records", None) or []) if executor is not None else []
        if records:
            marks = "  ".join(("+" if getattr(r, "ok", False) else "x") + str(getattr(r, "skill", r)).split("(")[0]
                              for r in records[-6:])
            put_text(image, fit(f"done {sum(bool(getattr(r, 'ok', False)) for r in records)}/{len(records)}: "
                                + marks, room, scale * 0.9), (x, y), scale * 0.9, GREY)
            y += line
        trace = getattr(executor, "trace", None) if executor is not None else None
        if trace:
            put_text(image, fit("note " + str(trace[-1]), room, scale * 0.9), (x, y), scale * 0.9, GREY)
            y += line
        y += 2
        cv2.line(image, (x, y - line + 4), (width - x, y - line + 4), (70, 70, 80), 1)
        rows_left = max(0, (self.height - y) // line + 1)
        lines = self._dialogue_lines
        if len(lines) > rows_left and rows_left > 0:  # the last lines that fit, marked as cut
            shown = lines[len(lines) - rows_left + 1:] if rows_left > 1 else []
            put_text(image, f"... ({len(lines) - len(shown)} earlier lines)", (x, y), scale * 0.9, GREY)
            y += line
        else:
            shown = lines
        for text, colour in shown:
            put_text(image, text, (x, y), scale, colour)
            y += line
        cv2.line(image, (0, 0), (0, self.height - 1), (60, 60, 60), 1)
        return image

    # ------------------------------------------------------------------ closing card
    def _card(self, record: dict) -> np.ndarray:
        """The last panel darkened, with the episode's outcome in large type over it."""
        if self._last_panel is not None:
            card = (self._last_panel.astype(np.uint16) // 5).astype(np.uint8)
        else:
            card = np.zeros((self.height, self.width, 3), dtype=np.uint8)
        success = bool(record.get("success", 0))
        big = self.scale * 3.0
        title = "SUCCESS" if success else "FAILURE"
        x = (self.width - text_width(title, big, 3)) // 2
        y = int(self.height * 0.3)
        put_text(card, title, (x, y), big, GREEN if success else RED, thickness=3)
        completed = record.get("completed_goal_conditions", 0)
        total = record.get("total_goal_conditions", 0)
        gc = float(record.get("goal_condition_success", 0.0) or 0.0)
        lines = [
            (f"goal conditions {completed}/{total}  ({gc:.0%})", WHITE),
            (f"steps {record.get('traj_len', record.get('steps', self.frames))}   failed actions "
             f"{record.get('num_api_fails', record.get('failed_actions', 0))}   "
             f"stop {'yes' if record.get('predicted_stop') else 'no'}", WHITE),
        ]
        if record.get("task"):
            lines.insert(0, (f"{self.instance_id}   {record['task']}", GREY))
        skills = record.get("skills") or []
        if skills:
            done = sum(bool(s.get("ok")) for s in skills if isinstance(s, dict))
            lines.append((f"skills {done}/{len(skills)} ok", WHITE))
        if record.get("error"):
            lines.append((fit("error: " + str(record.get("error_message") or ""), self.width - 40, self.scale * 1.2),
                          RED))
        scale = self.scale * 1.4
        y += int(self.line * 2.2)
        for text, colour in lines:
            put_text(card, text, ((self.width - text_width(text, scale)) // 2, y), scale, colour)
            y += int(self.line * 1.6)
        return card


__all__ = ["EpisodeVideo", "class_colour", "wrap"]
