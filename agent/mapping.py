"""The agent's own occupancy map, built from depth and pose alone (no simulator grid, no reachable positions).

Each depth frame is lifted to the thor world with ``envs.camera`` and binned into a top-down grid of ``cell`` metres.
A point between ``obstacle_band`` metres above the floor is an obstacle hit for its cell (the agent's body would touch
it); a point within ``floor_tolerance`` of the floor is a floor hit. A cell seen as floor in a frame with no obstacle
hit in that frame is cleared, so doors that were closed again and objects that were carried away free their cells.
This is the classic top-down projection of embodied agents' semantic/occupancy maps (e.g. Chaplot et al., "Object Goal
Navigation using Goal-Oriented Semantic Exploration", 2020; HELPER's navigation uses the same kind of map).

The agent stands on a lattice of ``grid`` (0.25 m, AI2-THOR's step) anchored at its start position; a lattice node is
*blocked* when an obstacle cell lies within ``agent_radius`` of it, *known* when floor was seen near it, and *unknown*
otherwise (the planner may cross unknown nodes, at a higher cost, and re-plans when they turn out blocked).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from envs.camera import AGENT_Y, unproject_depth


class OccupancyMap:
    def __init__(self, origin: np.ndarray, cell: float = 0.05, size_m: float = 24.0, grid: float = 0.25,
                 agent_radius: float = 0.2, obstacle_band: tuple[float, float] = (0.06, 1.45),
                 floor_tolerance: float = 0.04, max_depth: float = 6.0, stride: int = 2, near_depth: float = 1.5):
        self.cell = float(cell)
        self.grid = float(grid)
        self.n = int(round(size_m / cell))
        self.origin = np.asarray(origin, dtype=float)  # thor (x, y, z) of the start position: a lattice node
        self.floor_y = float(self.origin[1]) - AGENT_Y
        self.agent_radius = float(agent_radius)
        self.obstacle_band = obstacle_band
        self.floor_tolerance = floor_tolerance
        self.max_depth = max_depth
        self.stride = stride
        self.held_clearance = 0.8
        self.obstacle = np.zeros((self.n, self.n), dtype=bool)
        self.floor = np.zeros((self.n, self.n), dtype=bool)
        self.visits = np.zeros((self.n, self.n), dtype=np.int32)
        self.top = np.full((self.n, self.n), -np.inf, dtype=np.float32)
        self.bottom = np.full((self.n, self.n), np.inf, dtype=np.float32)
        """Highest and lowest point seen above each cell (metres above the floor), for line-of-sight checks."""
        self.height_bin = 0.1
        self.column = np.zeros((self.n, self.n), dtype=np.uint32)
        """Per cell, one bit per ``height_bin`` metres above the floor (to 2.6 m) where something was seen: the gap
        between a counter and the wall cabinets above it stays open to the line of sight (top and bottom alone would
        make the whole column solid)."""
        self.near_depth = float(near_depth)
        self.seen_near = np.zeros((self.n, self.n), dtype=bool)
        """Cells where something was seen from within ``near_depth`` metres (planar depth): close enough that a
        small object lying there covers many pixels. A surface not seen this close may hide a knife a learned detector
        missed from across the room."""
        self.ignored = np.zeros((self.n, self.n), dtype=bool)
        """Obstacle cells that appeared when the agent opened something (its door or drawer): not walls to the body,
        since AI2-THOR's agent passes open doors; forgotten when the thing is closed again."""
        self._door_zones: list[tuple[np.ndarray, tuple[slice, slice], np.ndarray]] = []
        self._blocked_cache: np.ndarray | None = None
        self.version = 0
        r = int(math.ceil(agent_radius / cell))
        yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
        self._disk = (xx * xx + yy * yy) * cell * cell < agent_radius * agent_radius

    # --- coordinates ---------------------------------------------------------------------------------------------
    def to_cell(self, x, z) -> tuple[np.ndarray, np.ndarray]:
        """Grid (row, col) of thor (x, z): row follows z, col follows x, centred on the origin."""
        col = np.floor((np.asarray(x) - self.origin[0]) / self.cell + self.n / 2).astype(np.int64)
        row = np.floor((np.asarray(z) - self.origin[2]) / self.cell + self.n / 2).astype(np.int64)
        return row, col

    def node_xz(self, i: int, j: int) -> tuple[float, float]:
        return float(self.origin[0] + i * self.grid), float(self.origin[2] + j * self.grid)

    def node_of(self, x: float, z: float) -> tuple[int, int]:
        return int(round((x - self.origin[0]) / self.grid)), int(round((z - self.origin[2]) / self.grid))

    # --- updates ----------------------------------------------------------------------------------------------------
    def update(self, depth: np.ndarray, fov: float, camera_to_world: np.ndarray, holding: bool = False) -> None:
        """Fuse one planar depth frame taken with the thor ``camera_to_world`` pose. ``holding``: something is in
        the hand, floating in front of the camera (AI2-THOR draws it there); points of it are not obstacles."""
        sub = np.asarray(depth, dtype=np.float32)[::self.stride, ::self.stride]
        points = unproject_depth_strided(depth, fov, camera_to_world, self.stride)
        valid = (sub > 0.05) & (sub < self.max_depth) & np.isfinite(sub)
        if holding:
            cam = camera_to_world[:3, 3]
            near = np.hypot(points[..., 0] - cam[0], points[..., 2] - cam[2]) < self.held_clearance
            valid &= ~(near & (points[..., 1] - self.floor_y > 0.45))
        points = points[valid]
        close = sub[valid] < self.near_depth
        height = points[:, 1] - self.floor_y
        row, col = self.to_cell(points[:, 0], points[:, 2])
        inside = (row >= 0) & (row < self.n) & (col >= 0) & (col < self.n)
        row, col, height, close = row[inside], col[inside], height[inside], close[inside]
        self.seen_near[row[close], col[close]] = True
        lo, hi = self.obstacle_band
        is_obstacle = (height > lo) & (height < hi)
        is_floor = height < self.floor_tolerance
        seen_obstacle = np.zeros_like(self.obstacle)
        seen_obstacle[row[is_obstacle], col[is_obstacle]] = True
        seen_floor = np.zeros_like(self.floor)
        seen_floor[row[is_floor], col[is_floor]] = True
        solid = (height > lo) & (height < 2.6)
        np.maximum.at(self.top, (row[solid], col[solid]), height[solid].astype(np.float32))
        np.minimum.at(self.bottom, (row[solid], col[solid]), height[solid].astype(np.float32))
        bits = np.left_shift(np.uint32(1), (height[solid] / self.height_bin).astype(np.uint32))
        np.bitwise_or.at(self.column, (row[solid], col[solid]), bits)
        cleared = seen_floor & ~seen_obstacle & self.obstacle
        changed = bool(cleared.any()) or bool((seen_obstacle & ~self.obstacle).any())
        self.obstacle &= ~cleared
        self.top[cleared] = -np.inf
        self.bottom[cleared] = np.inf
        self.column[cleared] = 0
        self.obstacle |= seen_obstacle
        self.floor |= seen_floor
        for _, window, before in self._door_zones:
            appeared = self.obstacle[window] & ~before
            if (appeared & ~self.ignored[window]).any():
                self.ignored[window] |= appeared
                changed = True
        if changed:
            self._blocked_cache = None
            self.version += 1

    def mark_visited(self, x: float, z: float) -> None:
        """The agent stood here: its footprint is free (whatever stale hits said)."""
        row, col = self.to_cell(x, z)
        r = self._disk.shape[0] // 2
        r0, c0 = int(row) - r, int(col) - r
        if 0 <= r0 and 0 <= c0 and r0 + 2 * r + 1 <= self.n and c0 + 2 * r + 1 <= self.n:
            window = self.obstacle[r0:r0 + 2 * r + 1, c0:c0 + 2 * r + 1]
            shrink = self._disk & window
            if shrink.any():
                window[shrink] = False
                self._blocked_cache = None
                self.version += 1
            self.floor[r0:r0 + 2 * r + 1, c0:c0 + 2 * r + 1] |= self._disk
            self.visits[int(row), int(col)] += 1

    def door_window(self, x: float, z: float, radius: float = 1.0) -> tuple[slice, slice]:
        row, col = self.to_cell(x, z)
        r = int(radius / self.cell)
        return slice(max(int(row) - r, 0), int(row) + r + 1), slice(max(int(col) - r, 0), int(col) + r + 1)

    def snapshot_door(self, x: float, z: float) -> tuple:
        """Call before opening the thing at (x, z); hand the result to :meth:`opened` once it opened."""
        window = self.door_window(x, z)
        return np.array([x, z]), window, self.obstacle[window].copy()

    def opened(self, snapshot: tuple) -> None:
        """Obstacles new since ``snapshot`` near the opened thing (now and until it is closed) are its door."""
        self._door_zones.append(snapshot)
        centre, window, before = snapshot
        appeared = self.obstacle[window] & ~before
        if appeared.any():
            self.ignored[window] |= appeared
            self._blocked_cache = None
            self.version += 1

    def closed(self, x: float, z: float, radius: float = 0.6) -> None:
        """The thing near (x, z) was closed: its door cells are free space again."""
        keep = []
        for zone in self._door_zones:
            centre, window, _ = zone
            if np.hypot(centre[0] - x, centre[1] - z) <= radius:
                self.obstacle[window] &= ~self.ignored[window]
                self.ignored[window] = False
                self.top[window] = np.where(self.obstacle[window], self.top[window], -np.inf)
                self.bottom[window] = np.where(self.obstacle[window], self.bottom[window], np.inf)
                self.column[window] = np.where(self.obstacle[window], self.column[window], 0)
                self._blocked_cache = None
                self.version += 1
            else:
                keep.append(zone)
        self._door_zones = keep

    # --- queries ----------------------------------------------------------------------------------------------------
    def blocked_cells(self) -> np.ndarray:
        """Cells where the agent's centre may not stand (obstacles grown by the agent radius)."""
        if self._blocked_cache is None:
            self._blocked_cache = ndimage.binary_dilation(self.obstacle & ~self.ignored, structure=self._disk)
        return self._blocked_cache

    def node_state(self, i: int, j: int) -> int:
        """0 free (floor seen), 1 unknown, 2 blocked or off the map."""
        x, z = self.node_xz(i, j)
        row, col = self.to_cell(x, z)
        if not (0 <= row < self.n and 0 <= col < self.n):
            return 2
        if self.blocked_cells()[row, col]:
            return 2
        r0, r1, c0, c1 = max(row - 2, 0), row + 3, max(col - 2, 0), col + 3
        return 0 if self.floor[r0:r1, c0:c1].any() else 1

    def node_states(self, half: int) -> np.ndarray:
        """(2*half+1, 2*half+1) array of :meth:`node_state` for nodes i, j in [-half, half] (index [i+half, j+half])."""
        blocked = self.blocked_cells()
        known = ndimage.maximum_filter(self.floor, size=5)
        idx = np.arange(-half, half + 1)
        xs = self.origin[0] + idx * self.grid
        zs = self.origin[2] + idx * self.grid
        _, cols = self.to_cell(xs, np.zeros_like(xs) + self.origin[2])
        rows, _ = self.to_cell(np.zeros_like(zs) + self.origin[0], zs)
        out = np.full((len(idx), len(idx)), 2, dtype=np.int8)
        ok_c = (cols >= 0) & (cols < self.n)
        ok_r = (rows >= 0) & (rows < self.n)
        for a, col in enumerate(cols):
            if not ok_c[a]:
                continue
            r = rows[ok_r]
            state = np.where(blocked[r, col], 2, np.where(known[r, col], 0, 1))
            out[a, ok_r] = state
        return out

    def line_of_sight(self, start: np.ndarray, end: np.ndarray, skip_end: float = 0.1, skip_start: float = 0.1,
                      ignore: np.ndarray | None = None) -> bool:
        """Whether the segment between two thor points passes no cell whose seen heights span the segment's height
        there (ignoring ``skip_end`` metres before ``end``, ``skip_start`` after ``start``, and cells within two
        cells of the ``ignore`` points: the target itself)."""
        start, end = np.asarray(start, float), np.asarray(end, float)
        length = float(np.linalg.norm(end - start))
        if length <= skip_end + skip_start:
            return True
        t = np.arange(skip_start, length - skip_end, self.cell * 0.8) / length
        points = start[None] + t[:, None] * (end - start)[None]
        row, col = self.to_cell(points[:, 0], points[:, 2])
        ok = (row >= 0) & (row < self.n) & (col >= 0) & (col < self.n)
        h = points[ok, 1] - self.floor_y
        r, c = row[ok], col[ok]
        top, bottom = self.top[r, c], self.bottom[r, c]
        column = self.column[r, c]
        hit = np.zeros(len(h), dtype=bool)
        for dh in (-0.03, 0.0, 0.03):  # the height bin of the ray, or one a few centimetres away
            b = np.clip((h + dh) / self.height_bin, 0, 31).astype(np.uint32)
            hit |= (np.right_shift(column, b) & np.uint32(1)).astype(bool)
        hit &= (bottom - 0.03 <= h) & (h <= top + 0.03)
        # Only a surface seen at this cell (a box or counter top from above): take it as solid below.
        hit |= (top - bottom < 0.1) & (top < 1.3) & (h <= top + 0.03)
        if self._door_zones and hit.any():
            # Around an open door or drawer the heights seen before it opened are stale: look through.
            for _, window, _ in self._door_zones:
                inside = ((r >= window[0].start) & (r < window[0].stop) & (c >= window[1].start)
                          & (c < window[1].stop))
                hit &= ~inside
        if ignore is not None and hit.any():
            ir, ic = self.to_cell(np.asarray(ignore)[:, 0], np.asarray(ignore)[:, 2])
            near = np.zeros(hit.shape, dtype=bool)
            for k in np.nonzero(hit)[0]:
                near[k] = bool(np.any((np.abs(ir - r[k]) <= 2) & (np.abs(ic - c[k]) <= 2)))
            hit &= ~near
        return int(hit.sum()) <= 1

    def render(self, half_extent: float = 5.0, scale: int = 2) -> np.ndarray:
        """A top-down RGB picture around the origin: floor light grey, obstacles dark, unknown black (x right,
        z up)."""
        r = int(half_extent / self.cell)
        c0 = self.n // 2
        window = slice(max(c0 - r, 0), c0 + r)
        image = np.zeros((2 * r, 2 * r, 3), dtype=np.uint8)
        floor = self.floor[window, window]
        obstacle = self.obstacle[window, window]
        image[floor] = (200, 200, 200)
        image[obstacle] = (70, 70, 90)
        image = image[::-1]  # z grows upwards in the picture
        return np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)

    def pixel_of(self, x: float, z: float, half_extent: float = 5.0, scale: int = 2) -> tuple[int, int]:
        """(row, col) of thor (x, z) in :meth:`render`'s picture."""
        row, col = self.to_cell(x, z)
        r = int(half_extent / self.cell)
        return int((2 * r - 1 - (row - (self.n // 2 - r))) * scale), int((col - (self.n // 2 - r)) * scale)

    def unknown_fraction_near(self, x: float, z: float, radius: float = 1.5) -> float:
        row, col = self.to_cell(x, z)
        r = int(radius / self.cell)
        window_f = self.floor[max(row - r, 0):row + r + 1, max(col - r, 0):col + r + 1]
        window_o = self.obstacle[max(row - r, 0):row + r + 1, max(col - r, 0):col + r + 1]
        if window_f.size == 0:
            return 0.0
        return float(1.0 - (window_f | window_o).mean())


def unproject_depth_strided(depth: np.ndarray, fov: float, camera_to_world: np.ndarray, stride: int) -> np.ndarray:
    """:func:`envs.camera.unproject_depth` on every ``stride``-th pixel (pixel centres of the full frame)."""
    height, width = depth.shape
    focal = (height / 2.0) / math.tan(math.radians(fov) / 2.0)
    u = (np.arange(0, width, stride) + 0.5 - width / 2.0) / focal
    v = (np.arange(0, height, stride) + 0.5 - height / 2.0) / focal
    d = np.asarray(depth, dtype=np.float64)[::stride, ::stride]
    cam = np.empty(d.shape + (3,))
    cam[..., 0] = u[None, :] * d
    cam[..., 1] = v[:, None] * d
    cam[..., 2] = d
    return cam @ camera_to_world[:3, :3].T + camera_to_world[:3, 3]


__all__ = ["OccupancyMap", "unproject_depth_strided", "unproject_depth"]
