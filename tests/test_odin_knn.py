"""k-NN search of ODIN's 3D fusion: the grid search equals brute force, on uniform, clustered, flat and sparse clouds."""

import numpy as np
import pytest
import torch

from perception.odin.knn_search import PAD_DISTANCE, knn, knn_brute_force


def numpy_reference(query, query_batch, source, source_batch, k):
    """Independent float64 reference: sorted distances to the same-sample sources."""
    q, s = query.double().numpy(), source.double().numpy()
    qb, sb = query_batch.numpy(), source_batch.numpy()
    out = np.full((len(q), k), np.inf)
    for i in range(len(q)):
        d = np.sort(np.linalg.norm(s[sb == qb[i]] - q[i], axis=1))[:k]
        out[i, : len(d)] = d
    return out


def assert_same_neighbours(index, distance, ref_index, ref_distance, query, source):
    """Exact k-NN up to the order of exactly tied points: same distances, and the indices really are at them."""
    assert torch.equal(distance, ref_distance)
    real = distance < PAD_DISTANCE
    recomputed = (query[:, None, :] - source[index.clamp_min(0)]).pow(2).sum(-1).sqrt()
    assert torch.equal(recomputed[real], distance[real])
    for row, keep in zip(index.tolist(), real.tolist()):
        chosen = [i for i, r in zip(row, keep) if r]
        assert len(set(chosen)) == len(chosen)
    assert (index != ref_index).sum() <= 0.01 * index.numel()  # differences only come from exact ties


def clouds():
    g = torch.Generator().manual_seed(0)
    uniform = torch.rand(3000, 3, generator=g) * 4.0
    centres = torch.rand(4, 1, 3, generator=g) * 6.0
    clustered = torch.cat([(torch.randn(600, 3, generator=g) * 0.01 + centres[i]) for i in range(4)]
                          + [torch.rand(60, 3, generator=g) * 6.0])
    plane = torch.cat([torch.rand(2500, 2, generator=g) * 3.0, torch.rand(2500, 1, generator=g) * 1e-3], 1)
    sparse = torch.rand(40, 3, generator=g) * 100.0
    return {"uniform": uniform, "clustered": clustered, "plane": plane + 5.0, "sparse": sparse}


@pytest.mark.parametrize("name", ["uniform", "clustered", "plane", "sparse"])
def test_grid_knn_equals_brute_force(name):
    points = clouds()[name]
    batch = (torch.arange(points.shape[0]) % 3 == 0).long()  # two interleaved samples
    index, distance = knn(points, batch, points, batch, 8)
    ref_index, ref_distance = knn_brute_force(points, batch, points, batch, 8)
    assert_same_neighbours(index, distance, ref_index, ref_distance, points, points)
    assert torch.all(distance[:, 1:] >= distance[:, :-1])
    assert torch.all(index[:, 0] == torch.arange(points.shape[0]))  # self first, at distance 0
    assert torch.all(batch[index] == batch[:, None])
    np.testing.assert_allclose(distance.double().numpy(), numpy_reference(points, batch, points, batch, 8), atol=1e-4)


def test_cross_set_queries_and_small_samples():
    g = torch.Generator().manual_seed(1)
    source = torch.rand(500, 3, generator=g)
    source_batch = torch.zeros(500, dtype=torch.long)
    source_batch[-3:] = 1  # sample 1 has only 3 sources
    query = torch.rand(200, 3, generator=g)
    query_batch = torch.randint(0, 2, (200,), generator=g)
    index, distance = knn(query, query_batch, source, source_batch, 8)
    ref_index, ref_distance = knn_brute_force(query, query_batch, source, source_batch, 8)
    assert_same_neighbours(index, distance, ref_index, ref_distance, query, source)
    small = query_batch == 1
    assert torch.all(distance[small, 3:] == PAD_DISTANCE)
    assert torch.all(index[small, 3:] == 497)  # padding points at the sample's first source
    assert torch.all(distance[small, :3] < 2.0)


def test_knn_rejects_bad_shapes():
    with pytest.raises(ValueError, match="query_xyz"):
        knn(torch.zeros(4, 2), torch.zeros(4, dtype=torch.long), torch.zeros(4, 3), torch.zeros(4, dtype=torch.long), 2)
