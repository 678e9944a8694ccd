"""Exact k-nearest-neighbour search among 3D points of the same sample, near-linear in the number of points.

Replaces pointops2 ``knnquery`` (ODIN ``libs/pointops2``): for every query point, its ``k`` nearest source points of the
same sample in ascending distance (a query that is also a source finds itself at distance 0). A sample with fewer than
``k`` source points pads the extra slots with its first point at distance ``PAD_DISTANCE`` (1e10), as pointops2 does.

Method (uniform-grid neighbourhood search, kept exact):
1. Hash the sources into cubic cells (key = sample, cell x, y, z) of a size chosen so an average point shares its
   cell with about ``k/2`` others; sort the keys once.
2. Each query collects the sources of the 3x3x3 cells around its own cell (``searchsorted`` on the sorted keys) and
   keeps the ``k`` closest. The answer is provably exact when the k-th distance is below the distance from the query to
   the faces of the searched cube: no point outside the cube can be closer.
3. Queries that fail the proof (surface borders, sparse regions, tiny samples) retry with a 5x5x5 window, then on
   grids with cells twice as large, and after a few doublings fall back to a chunked brute force over their sample.
Distances are computed in one way (:func:`pair_distance`) everywhere, so the result equals :func:`knn_brute_force`.
"""

from __future__ import annotations

import torch

PAD_DISTANCE = 1e10
_CANDIDATE_BUDGET = 1 << 20  # candidate pairs handled at once, bounds memory
_MAX_GRID_DOUBLINGS = 6


def pair_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Euclidean distance between matching rows of ``a`` and ``b`` (broadcasting over leading dims)."""
    return (a - b).pow(2).sum(-1).sqrt()


def _check_inputs(query_xyz, query_batch, source_xyz, source_batch, k):
    for name, xyz in (("query_xyz", query_xyz), ("source_xyz", source_xyz)):
        if xyz.ndim != 2 or xyz.shape[1] != 3:
            raise ValueError(f"knn: {name} must have shape (N, 3), got {tuple(xyz.shape)}")
    for name, batch, xyz in (("query_batch", query_batch, query_xyz), ("source_batch", source_batch, source_xyz)):
        if batch.shape != xyz.shape[:1]:
            raise ValueError(f"knn: {name} must have shape ({xyz.shape[0]},), got {tuple(batch.shape)}")
    if k <= 0:
        raise ValueError(f"knn: k must be positive, got {k}")


def _pad_result(query_batch, source_batch, k, device, dtype):
    """Default answer for every query: its sample's first source point at PAD_DISTANCE (-1 when the sample is empty)."""
    num_samples = int(max(query_batch.max().item() if query_batch.numel() else -1,
                          source_batch.max().item() if source_batch.numel() else -1)) + 1
    first = torch.full((num_samples,), -1, dtype=torch.long, device=device)
    if source_batch.numel():
        positions = torch.arange(source_batch.numel(), device=device)
        first.scatter_reduce_(0, source_batch, positions, reduce="amin", include_self=False)
    index = first[query_batch][:, None].expand(-1, k).clone()
    distance = torch.full((query_batch.numel(), k), PAD_DISTANCE, dtype=dtype, device=device)
    return index, distance


def knn_brute_force(query_xyz, query_batch, source_xyz, source_batch, k: int):
    """Exact k-NN by comparing each query with every source point of its sample (chunked). Reference and fallback."""
    _check_inputs(query_xyz, query_batch, source_xyz, source_batch, k)
    index, distance = _pad_result(query_batch, source_batch, k, query_xyz.device, query_xyz.dtype)
    if query_xyz.shape[0] == 0 or source_xyz.shape[0] == 0:
        return index, distance
    for sample in torch.unique(query_batch).tolist():
        queries = torch.nonzero(query_batch == sample).squeeze(1)
        sources = torch.nonzero(source_batch == sample).squeeze(1)
        if sources.numel() == 0:
            continue
        found = min(k, sources.numel())
        chunk = max(1, _CANDIDATE_BUDGET // sources.numel())
        for start in range(0, queries.numel(), chunk):
            rows = queries[start:start + chunk]
            d = pair_distance(query_xyz[rows][:, None, :], source_xyz[sources][None, :, :])
            order = torch.sort(d, dim=1, stable=True)
            index[rows, :found] = sources[order.indices[:, :found]]
            distance[rows, :found] = order.values[:, :found]
    return index, distance


def _choose_cell_size(relative_xyz, batch, k):
    """A cell edge giving roughly k/2 points per occupied cell, seen from an average point (point-weighted occupancy)."""
    extent = relative_xyz.max(0).values.clamp_min(1e-6)
    n = relative_xyz.shape[0]
    cell = float(extent.max()) / max(n / (0.5 * k), 1.0) ** (1.0 / 3.0)
    target = max(k / 2.0, 2.0)
    for _ in range(12):
        cell = max(cell, 1e-6)
        keys = _cell_keys(torch.floor(relative_xyz / cell).long(), batch, pad=0)
        counts = torch.unique(keys, return_counts=True)[1].double()
        occupancy = float((counts * counts).sum() / n)
        if target / 2.0 <= occupancy <= target * 2.0:
            break
        # occupancy grows like cell^2 on surfaces and cell^3 in volumes: step with the exponent in between
        cell *= min(max((target / occupancy) ** 0.4, 0.25), 4.0)
    return cell


def _cell_keys(cells, batch, pad, dims=None):
    """Linear hash of (sample, cell) with ``pad`` spare cells on each side so neighbour offsets never wrap."""
    shifted = cells + pad
    if dims is None:
        dims = (cells.max(0).values + 2 * pad + 1).tolist() if cells.numel() else [1, 1, 1]
    dx, dy, dz = dims
    return ((batch * dx + shifted[:, 0]) * dy + shifted[:, 1]) * dz + shifted[:, 2]


def _grid_pass(query_xyz, query_rel, query_batch, source_xyz, source_rel, source_batch, cell, k, reach=1):
    """One search of the (2 reach + 1)^3 cells around each query on a grid of edge ``cell`` -> index, distance and
    a per-query 'proven exact' flag."""
    source_cells = torch.floor(source_rel / cell).long()
    query_cells = torch.floor(query_rel / cell).long()
    top = torch.maximum(source_cells.max(0).values, query_cells.max(0).values) + 2 * reach + 1
    dims = top.tolist()
    if float(dims[0]) * dims[1] * dims[2] * (int(max(source_batch.max(), query_batch.max())) + 1) > 2 ** 62:
        raise OverflowError("knn: grid too fine for a 64-bit cell hash")
    source_keys = _cell_keys(source_cells, source_batch, reach, dims)
    query_keys = _cell_keys(query_cells, query_batch, reach, dims)
    # Visiting queries in cell order keeps the gathered candidates close in memory (matters above ~50k points).
    query_order = torch.argsort(query_keys)
    query_rel, query_cells, query_keys = query_rel[query_order], query_cells[query_order], query_keys[query_order]
    order, cell_counts, cell_starts = _window_cells(source_keys, query_keys, dims, reach)
    index, distance = _nearest_in_windows(query_xyz[query_order], source_xyz, order, cell_counts, cell_starts, k)
    found = cell_counts.sum(1).clamp_max(k)

    # Distance from each query to the nearest face of its window; anything outside is at least that far.
    low = (query_cells - reach).to(query_rel.dtype) * cell
    high = (query_cells + reach + 1).to(query_rel.dtype) * cell
    clearance = torch.minimum(query_rel - low, high - query_rel).min(1).values
    # The margin absorbs float rounding between the cell frame and the caller's frame.
    proven = (found == k) & (distance[:, -1] < clearance - 1e-5 * (cell + query_rel.abs().max(1).values))
    restore = torch.empty_like(query_order)
    restore[query_order] = torch.arange(query_order.numel(), device=query_order.device)
    return index[restore], distance[restore], proven[restore]


def _window_cells(source_keys, query_keys, dims, reach):
    """The sources sorted by cell (``order``) and, per query and cell of its window, how many sources the cell holds
    and where they start in ``order`` -> (order, counts (Q, cells), starts (Q, cells))."""
    order = torch.argsort(source_keys)
    unique_keys, counts = torch.unique_consecutive(source_keys[order], return_counts=True)
    starts = torch.cumsum(counts, 0) - counts
    steps = torch.arange(-reach, reach + 1, device=query_keys.device)
    offsets = torch.cartesian_prod(steps, steps, steps)
    offset_keys = (offsets[:, 0] * dims[1] + offsets[:, 1]) * dims[2] + offsets[:, 2]
    neighbour_keys = query_keys[:, None] + offset_keys[None, :]
    slot = torch.searchsorted(unique_keys, neighbour_keys).clamp_max(unique_keys.numel() - 1)
    present = unique_keys[slot] == neighbour_keys
    return order, torch.where(present, counts[slot], torch.zeros_like(slot)), starts[slot]


def _nearest_in_windows(query_xyz, source_xyz, order, cell_counts, cell_starts, k):
    """The k nearest sources among each query's window cells -> index (Q, k) (-1: fewer found), distance (Q, k).
    Rows are padded to the longest candidate list of their chunk; chunks keep rows * width under the budget."""
    device = query_xyz.device
    num_queries = query_xyz.shape[0]
    per_query = cell_counts.sum(1)
    index = torch.full((num_queries, k), -1, dtype=torch.long, device=device)
    distance = torch.full((num_queries, k), float("inf"), dtype=query_xyz.dtype, device=device)
    slot_in_query = torch.cumsum(cell_counts, 1) - cell_counts  # where each cell's points start in the query's row
    start = 0
    while start < num_queries:
        width_so_far = torch.cummax(per_query[start:], 0).values.clamp_min(1)
        rows_fit = int((width_so_far * torch.arange(1, num_queries - start + 1, device=device) <= _CANDIDATE_BUDGET)
                       .sum())
        stop = start + max(rows_fit, 1)
        rows = slice(start, stop)
        width = int(per_query[rows].max())
        if width > 0:
            sources, found = _chunk_nearest(query_xyz[rows], source_xyz, order, cell_counts[rows], cell_starts[rows],
                                            slot_in_query[rows], width, k)
            index[rows, :sources.shape[1]] = sources
            distance[rows, :found.shape[1]] = found
        start = stop
    return index, distance


def _chunk_nearest(query_xyz, source_xyz, order, cell_counts, cell_starts, slot_in_query, width, k):
    """For a chunk of queries: lay each query's candidates out in a (rows, width) table (inf where it has fewer) and
    keep the k smallest distances -> (source indices, distances), each (rows, min(k, width))."""
    device = query_xyz.device
    rows, cells = cell_counts.shape
    counts = cell_counts.reshape(-1)
    nonempty = counts > 0
    pair_counts = counts[nonempty]
    pair_starts = cell_starts.reshape(-1)[nonempty]
    pair_slots = slot_in_query.reshape(-1)[nonempty]
    pair_query = torch.arange(rows, device=device).repeat_interleave(cells)[nonempty]
    pair_of_candidate = torch.repeat_interleave(torch.arange(pair_counts.numel(), device=device), pair_counts)
    first_candidate = torch.cumsum(pair_counts, 0) - pair_counts
    within = torch.arange(pair_of_candidate.numel(), device=device) - first_candidate[pair_of_candidate]
    candidate_source = order[pair_starts[pair_of_candidate] + within]
    candidate_query = pair_query[pair_of_candidate]
    candidate_slot = pair_slots[pair_of_candidate] + within
    table = torch.full((rows, width), float("inf"), dtype=query_xyz.dtype, device=device)
    sources = torch.full((rows, width), -1, dtype=torch.long, device=device)
    table[candidate_query, candidate_slot] = pair_distance(query_xyz[candidate_query], source_xyz[candidate_source])
    sources[candidate_query, candidate_slot] = candidate_source
    best = torch.topk(table, min(k, width), dim=1, largest=False, sorted=True)
    return torch.gather(sources, 1, best.indices), best.values


def knn(query_xyz: torch.Tensor, query_batch: torch.Tensor, source_xyz: torch.Tensor, source_batch: torch.Tensor,
        k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact k-NN of each query among the source points of the same sample.

    Args: ``query_xyz`` (Nq, 3), ``query_batch`` (Nq,) long sample ids, ``source_xyz`` (Ns, 3), ``source_batch`` (Ns,).
    Returns ``index`` (Nq, k) long into the sources and ``distance`` (Nq, k), both in ascending distance; missing
    neighbours (sample smaller than k) point at the sample's first source with distance ``PAD_DISTANCE``.
    """
    _check_inputs(query_xyz, query_batch, source_xyz, source_batch, k)
    index, distance = _pad_result(query_batch, source_batch, k, query_xyz.device, query_xyz.dtype)
    if query_xyz.shape[0] == 0 or source_xyz.shape[0] == 0:
        return index, distance
    with torch.no_grad():
        query_xyz, source_xyz = query_xyz.detach(), source_xyz.detach()
        num_samples = int(max(query_batch.max(), source_batch.max())) + 1
        origin = torch.full((num_samples, 3), float("inf"), dtype=source_xyz.dtype, device=source_xyz.device)
        origin.scatter_reduce_(0, source_batch[:, None].expand(-1, 3), source_xyz, reduce="amin", include_self=True)
        origin.scatter_reduce_(0, query_batch[:, None].expand(-1, 3), query_xyz, reduce="amin", include_self=True)
        # The shifted copies only place points in cells; distances use the caller's coordinates, so results match
        # knn_brute_force bit for bit.
        source_rel = source_xyz - origin[source_batch]
        query_rel = query_xyz - origin[query_batch]
        remaining = torch.arange(query_xyz.shape[0], device=query_xyz.device)
        cell = _choose_cell_size(source_rel, source_batch, k)
        # First the 3x3x3 window; the few unproven queries (surface borders, sparse spots) retry with a 5x5x5 window,
        # then on ever coarser grids.
        attempts = [(cell, 1)] + [(cell * 2.0 ** i, 2) for i in range(_MAX_GRID_DOUBLINGS)]
        for attempt_cell, reach in attempts:
            if remaining.numel() == 0:
                break
            try:
                idx, dist, proven = _grid_pass(query_xyz[remaining], query_rel[remaining], query_batch[remaining],
                                               source_xyz, source_rel, source_batch, attempt_cell, k, reach)
            except OverflowError:
                continue
            done = remaining[proven]
            index[done], distance[done] = idx[proven], dist[proven]
            remaining = remaining[~proven]
        if remaining.numel():
            idx, dist = knn_brute_force(query_xyz[remaining], query_batch[remaining], source_xyz, source_batch, k)
            index[remaining], distance[remaining] = idx, dist
    return index, distance
