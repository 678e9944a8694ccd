"""Shortest paths on the agent's own map (:class:`agent.mapping.OccupancyMap`) in TEACh's motion primitives.

Lattice nodes (0.25 m) are graph vertices; an edge joins 4-neighbours whose target node is not blocked and that the
agent has not failed to cross. Entering a node seen as floor costs 1, an unknown node ``unknown_cost``; shortest
paths come from ``scipy.sparse.csgraph.dijkstra`` (a kept library routine), and a path becomes RotateLeft/RotateRight
to face each step's heading followed by MoveAhead. Yaw 0 faces +z, 90 faces +x (AI2-THOR's left-handed frame).
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from .mapping import OccupancyMap

HEADINGS = {0: (0, 1), 90: (1, 0), 180: (0, -1), 270: (-1, 0)}
"""Yaw (degrees) -> lattice step (di, dj) of a MoveAhead."""


def snap_yaw(yaw: float) -> int:
    return int(round((yaw % 360.0) / 90.0)) % 4 * 90


def turn_actions(current_yaw: float, target_yaw: int) -> list[str]:
    diff = (target_yaw - snap_yaw(current_yaw)) % 360
    return {0: [], 90: ["RotateRight"], 180: ["RotateRight", "RotateRight"], 270: ["RotateLeft"]}[diff]


def heading_between(a: tuple[int, int], b: tuple[int, int]) -> int:
    step = (b[0] - a[0], b[1] - a[1])
    for yaw, d in HEADINGS.items():
        if d == step:
            return yaw
    raise ValueError(f"nodes {a} and {b} are not lattice neighbours")


class Navigator:
    def __init__(self, occupancy: OccupancyMap, unknown_cost: float = 1.6, blocked_cost: float = 12.0):
        self.map = occupancy
        self.half = int(occupancy.n * occupancy.cell / occupancy.grid / 2) - 1
        self.side = 2 * self.half + 1
        self.unknown_cost = unknown_cost
        self.blocked_cost = blocked_cost
        self.soft = False
        """When set, blocked nodes are crossable at ``blocked_cost`` (an escape when the map walls the agent in: an
        open door or a stale obstacle; a real wall then fails the move and becomes a blocked edge)."""
        self.blocked_edges: set[tuple[int, int, int]] = set()
        self.blocked_nodes: set[tuple[int, int]] = set()
        self._cache_key = None
        self._states = None
        self._dist = None
        self._pred = None

    def index(self, node: tuple[int, int]) -> int:
        return (node[0] + self.half) * self.side + (node[1] + self.half)

    def node(self, index: int) -> tuple[int, int]:
        return int(index // self.side) - self.half, int(index % self.side) - self.half

    def in_range(self, node: tuple[int, int]) -> bool:
        return abs(node[0]) <= self.half and abs(node[1]) <= self.half

    def block_edge(self, node: tuple[int, int], yaw: float) -> None:
        """A MoveAhead from ``node`` facing ``yaw`` failed: never plan it again, nor the node it led to (the
        simulator refuses a move when the agent's body does not fit at the end of it, whichever way it comes)."""
        yaw = snap_yaw(yaw)
        self.blocked_edges.add((node[0], node[1], yaw))
        di, dj = HEADINGS[yaw]
        self.blocked_nodes.add((node[0] + di, node[1] + dj))
        self._cache_key = None
        self._states = None

    def states(self) -> np.ndarray:
        if self._states is None or self._states[0] != self.map.version:
            states = self.map.node_states(self.half)
            for i, j in self.blocked_nodes:
                if self.in_range((i, j)):
                    states[i + self.half, j + self.half] = 2
            self._states = (self.map.version, states)
        return self._states[1]

    def state_of(self, node: tuple[int, int]) -> int:
        if not self.in_range(node):
            return 2
        return int(self.states()[node[0] + self.half, node[1] + self.half])

    def _graph(self, start: tuple[int, int]) -> csr_matrix:
        states = self.states().copy()
        states[start[0] + self.half, start[1] + self.half] = 0
        side = self.side
        rows, cols, weights = [], [], []
        ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
        if self.soft:
            states = np.where(states == 2, 3, states)
        src_ok = states != 2
        for yaw, (di, dj) in HEADINGS.items():
            ti, tj = ii + di, jj + dj
            inside = (ti >= 0) & (ti < side) & (tj >= 0) & (tj < side)
            ok = inside & src_ok
            ok[inside] &= states[ti[inside], tj[inside]] != 2
            a = ii[ok] * side + jj[ok]
            b = ti[ok] * side + tj[ok]
            target = states[ti[ok], tj[ok]]
            w = np.where(target == 0, 1.0, np.where(target == 1, self.unknown_cost, self.blocked_cost))
            rows.append(a)
            cols.append(b)
            weights.append(w)
        rows_a, cols_a, w_a = np.concatenate(rows), np.concatenate(cols), np.concatenate(weights)
        if self.blocked_edges:
            drop = set()
            for i, j, yaw in self.blocked_edges:
                di, dj = HEADINGS[yaw]
                if self.in_range((i, j)) and self.in_range((i + di, j + dj)):
                    drop.add((self.index((i, j)), self.index((i + di, j + dj))))
            if drop:
                keep = np.array([(int(a), int(b)) not in drop for a, b in zip(rows_a, cols_a)])
                rows_a, cols_a, w_a = rows_a[keep], cols_a[keep], w_a[keep]
        return csr_matrix((w_a, (rows_a, cols_a)), shape=(side * side, side * side))

    def distances(self, start: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """Path costs from ``start`` to every node (inf where unreachable) and the predecessor array."""
        key = (start, self.map.version, len(self.blocked_edges), len(self.blocked_nodes), self.soft)
        if self._cache_key != key:
            dist, pred = dijkstra(self._graph(start), directed=True, indices=self.index(start),
                                  return_predecessors=True)
            self._dist, self._pred, self._cache_key = dist, pred, key
        return self._dist, self._pred

    def cost_to(self, start: tuple[int, int], node: tuple[int, int]) -> float:
        if not self.in_range(node):
            return float("inf")
        dist, _ = self.distances(start)
        return float(dist[self.index(node)])

    def path(self, start: tuple[int, int], goal: tuple[int, int]) -> list[tuple[int, int]] | None:
        """Nodes from ``start`` to ``goal`` inclusive, or None if unreachable on the current map."""
        if not self.in_range(goal):
            return None
        dist, pred = self.distances(start)
        g = self.index(goal)
        if not np.isfinite(dist[g]):
            if self.soft or self.state_of(goal) == 2 or not self.trapped(start):
                return None
            self.soft = True
            try:
                return self.path(start, goal)
            finally:
                self.soft = False
        out = [g]
        while out[-1] != self.index(start):
            out.append(int(pred[out[-1]]))
        return [self.node(k) for k in reversed(out)]

    def trapped(self, start: tuple[int, int], min_nodes: int = 12) -> bool:
        """Whether the map walls the agent into fewer than ``min_nodes`` reachable nodes (then, and only then, paths
        may cross blocked nodes: a door the agent opened, a stale obstacle)."""
        dist, _ = self.distances(start)
        return int(np.isfinite(dist).sum()) < min_nodes

    def path_is_clear(self, path: list[tuple[int, int]], allow_blocked: bool = False) -> bool:
        """Every node after the first is still not blocked and no step is a known-bad edge."""
        for a, b in zip(path, path[1:]):
            if (self.state_of(b) == 2 and not allow_blocked) or (a[0], a[1], heading_between(a, b)) in self.blocked_edges:
                return False
        return True


__all__ = ["HEADINGS", "Navigator", "heading_between", "snap_yaw", "turn_actions"]
