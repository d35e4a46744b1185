"""TBU numbering, neighbours, hops and XY routes on a 2x2 mesh of 2x2-TBU clusters.

The global TBU mesh is 4x4; TBU ids are cluster-major, row-major inside a cluster:

    y=0:   0  1 |  4  5        cluster 0 | cluster 1
    y=1:   2  3 |  6  7
           -----+-----
    y=2:   8  9 | 12 13        cluster 2 | cluster 3
    y=3:  10 11 | 14 15
"""

from __future__ import annotations

import pytest

from octopus.arch import TbuCoords, Topology, load_arch


@pytest.fixture
def topo(mesh2x2) -> Topology:
    return Topology(mesh2x2)


def test_sizes(topo):
    """16 TBUs in 4 clusters; 2*4*3 horizontal + 2*4*3 vertical directed links."""
    assert (topo.num_tbus, topo.num_clusters, topo.tbus_per_cluster) == (16, 4, 4)
    assert topo.num_links == 48


def test_numbering_is_cluster_major(topo):
    """TBUs 4..7 are cluster 1; TBU 13 sits at (1, 0) inside cluster (1, 1)."""
    assert list(topo.tbus_of(1)) == [4, 5, 6, 7]
    assert [topo.cluster_of(t) for t in (0, 3, 4, 8, 15)] == [0, 0, 1, 2, 3]
    assert topo.coords(13) == TbuCoords(cluster_x=1, cluster_y=1, x=1, y=0)
    assert topo.position(13) == (3, 2)
    assert topo.tbu_at(3, 2) == 13


def test_position_roundtrip(topo):
    """tbu_at inverts position for every TBU."""
    assert [topo.tbu_at(*topo.position(t)) for t in range(16)] == list(range(16))


def test_cluster_neighbors():
    """Neighbours on a 3x3 cluster mesh: a corner has 2, the centre 4, in id order."""
    topo = Topology(load_arch("chip", {"chip.clusters_x": 3, "chip.clusters_y": 3}))
    assert topo.cluster_neighbors(0) == [1, 3]
    assert topo.cluster_neighbors(4) == [1, 3, 5, 7]
    assert topo.cluster_neighbors(5) == [2, 4, 8]
    assert topo.cluster_distance(0, 8) == 4


@pytest.mark.parametrize(
    ("src", "dst", "hops"),
    [
        (0, 0, (0, 0)),
        (0, 3, (2, 0)),
        (1, 4, (0, 1)),
        (0, 15, (4, 2)),
        (15, 0, (4, 2)),
        (2, 8, (0, 1)),
        (5, 8, (3, 2)),
    ],
)
def test_hops(topo, src, dst, hops):
    """(intra, d2d) hops, worked out on the picture in the module docstring."""
    assert topo.hops(src, dst) == hops


def test_route_goes_x_then_y(topo):
    """0 -> 15 goes east along row 0 (crossing into cluster 1), then south down column 3."""
    ends = [topo.link_ends(link) for link in topo.route(0, 15)]
    assert ends == [(0, 1), (1, 4), (4, 5), (5, 7), (7, 13), (13, 15)]
    assert [topo.is_d2d(link) for link in topo.route(0, 15)] == [0, 1, 0, 0, 1, 0]


def test_route_link_ids_follow_documented_numbering(topo):
    """Horizontal ids 2*(y*3 + x) (+1 westward); vertical 24 + 2*(x*3 + y) (+1 northward)."""
    assert topo.route(0, 15) == (0, 2, 4, 42, 44, 46)
    assert topo.route(15, 0) == (23, 21, 19, 29, 27, 25)


def test_route_reverse_direction(topo):
    """15 -> 0 goes west along row 3, then north up column 0."""
    ends = [topo.link_ends(link) for link in topo.route(15, 0)]
    assert ends == [(15, 14), (14, 11), (11, 10), (10, 8), (8, 2), (2, 0)]


def test_route_length_matches_hops(topo):
    """For every pair, the route has intra + d2d links and the d2d ones are counted right."""
    for src in range(16):
        for dst in range(16):
            route = topo.route(src, dst)
            intra, d2d = topo.hops(src, dst)
            assert len(route) == intra + d2d
            assert sum(topo.is_d2d(link) for link in route) == d2d


def test_link_names(topo):
    """Link names show both ends and mark die-to-die links."""
    assert topo.link_name(0) == "tbu0->tbu1"
    assert topo.link_name(2) == "tbu1->tbu4 d2d"


def test_out_of_range_ids_raise(topo):
    """Ids outside the machine raise IndexError instead of wrapping around."""
    with pytest.raises(IndexError):
        topo.hops(-1, 0)
    with pytest.raises(IndexError):
        topo.tbus_of(4)
    with pytest.raises(IndexError):
        topo.link_name(48)
