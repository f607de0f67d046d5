"""Adjacency kernels for the per-frame graph convolutions (spec §4.1).

A graph has nodes with a distance to its centre, undirected edges and "symmetric" links
(corresponding joints of adjacent fingers, left/right arms). Hop <= 1 with self loops,
normalised per target node (each node averages over its in-neighbours including itself),
then split into K = 4 kernels by the direction of each link:
  0 self, 1 centripetal (source farther from the centre than the target),
  2 centrifugal (source nearer), 3 symmetric.
Message passing: out[w] = sum_k sum_v (W_k x)[v] * A[k, v, w].
"""
from __future__ import annotations

import numpy as np
import torch

from masa import skeleton as sk


def kernels(num_nodes: int, edges, symmetric, distance) -> torch.Tensor:
    """-> A (4, V, V) float32, A[k, source, target]."""
    A = np.zeros((4, num_nodes, num_nodes), np.float32)
    A[0] = np.eye(num_nodes)
    for a, b in edges:
        for src, dst in ((a, b), (b, a)):
            A[1 if distance[src] > distance[dst] else 2, src, dst] = 1
    for a, b in symmetric:
        A[3, a, b] = A[3, b, a] = 1
    in_degree = A.sum(axis=(0, 1))  # per target node, self loop included
    return torch.from_numpy(A / in_degree[None, None, :])


def hand_graph() -> torch.Tensor:
    return kernels(21, sk.HAND_EDGES, sk.HAND_SYMMETRIC, sk.HAND_CENTRE_DISTANCE)


def body_graph() -> torch.Tensor:
    return kernels(7, sk.BODY_EDGES, sk.BODY_SYMMETRIC, sk.BODY_CENTRE_DISTANCE)


def pooled_hand_graph() -> torch.Tensor:
    """6 part nodes (thumb, index, middle, ring, little, palm): fingers <-> palm, adjacent fingers symmetric."""
    palm = 5
    return kernels(6, [(f, palm) for f in range(5)], [(f, f + 1) for f in range(4)], (1, 1, 1, 1, 1, 0))


def pooled_body_graph() -> torch.Tensor:
    """3 part nodes (left arm, right arm, nose): arms <-> nose, the arms symmetric.

    The authors' pooled body graph degenerates to self + arm<->arm (spec §4.1 quirk); this is
    the graph it was meant to be. The parameter count is the same."""
    return kernels(3, [(0, 2), (1, 2)], [(0, 1)], (1, 1, 0))
