"""Numbering, neighbourhoods and XY routes of the TBUs and links of an architecture.

The model (a decision, kept simple on purpose):

* Clusters form a ``clusters_x`` by ``clusters_y`` mesh, numbered row-major:
  ``cluster = cluster_y * clusters_x + cluster_x``.
* Inside a cluster, TBUs form a ``tbus_x`` by ``tbus_y`` mesh, numbered row-major, and TBU ids are
  cluster-major: ``tbu = cluster * tbus_per_cluster + y * tbus_x + x``.
* Together the TBUs form one global mesh of ``W = clusters_x * tbus_x`` columns and
  ``H = clusters_y * tbus_y`` rows. Every pair of mesh neighbours is joined by two directed links
  (one per direction). A link whose ends lie in different clusters is a **die-to-die (d2d)** link;
  so each cluster edge has one d2d link per TBU row (east/west edges) or column (north/south
  edges) crossing it, and there is no single gateway to congest.
* Routing is dimension-ordered XY on the global mesh: first along the source's row to the
  destination's column, then along that column to the destination. Along the way the route
  crosses ``|dcluster_x| + |dcluster_y|`` cluster boundaries (the d2d hops) and takes
  ``|dx| + |dy| - d2d_hops`` intra-cluster hops, where ``dx``, ``dy`` are global-mesh distances.
* "North" is the smaller y; ``S`` the larger.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from octopus.arch.config import ArchConfig

__all__ = ["TbuCoords", "Topology"]


class TbuCoords(NamedTuple):
    """Where a TBU sits: its cluster's mesh position and its own position inside the cluster."""

    cluster_x: int
    cluster_y: int
    x: int
    y: int


class Topology:
    """TBU and link numbering plus XY routing for one :class:`ArchConfig`.

    Link ids are dense, ``0 .. num_links - 1``: first the horizontal links (per global row, per
    column gap, eastward then westward), then the vertical ones (per global column, per row gap,
    southward then northward). Methods taking a TBU or cluster id raise ``IndexError`` when it is
    out of range.

    Args:
        arch: the machine.
        route_cache_size: routes kept by an LRU cache (a wafer route is up to ~60 link ids).
    """

    def __init__(self, arch: ArchConfig, route_cache_size: int = 1 << 14):
        self._cx, self._cy = arch.chip.clusters_x, arch.chip.clusters_y
        self._tx, self._ty = arch.cluster.tbus_x, arch.cluster.tbus_y
        self._per = self._tx * self._ty
        self._w, self._h = self._cx * self._tx, self._cy * self._ty
        self._num_tbus = self._per * self._cx * self._cy
        self._num_h_links = 2 * self._h * (self._w - 1)
        self._num_links = self._num_h_links + 2 * self._w * (self._h - 1)
        # Global mesh position of every TBU, precomputed: hops() and route() are hot paths.
        self._pos = [self._global_pos(t) for t in range(self._num_tbus)]
        self._route_cached = lru_cache(maxsize=route_cache_size)(self._route)

    # --- sizes -------------------------------------------------------------------------------
    @property
    def num_tbus(self) -> int:
        """Number of TBUs, ``T``; TBU ids are ``0 .. T-1``."""
        return self._num_tbus

    @property
    def num_clusters(self) -> int:
        """Number of clusters; cluster ids are ``0 .. num_clusters-1``."""
        return self._cx * self._cy

    @property
    def tbus_per_cluster(self) -> int:
        """TBUs in each cluster."""
        return self._per

    @property
    def num_links(self) -> int:
        """Number of directed links (intra-cluster and die-to-die)."""
        return self._num_links

    # --- numbering ---------------------------------------------------------------------------
    def cluster_of(self, tbu: int) -> int:
        """The cluster holding ``tbu``."""
        self._check_tbu(tbu)
        return tbu // self._per

    def tbus_of(self, cluster: int) -> range:
        """The TBU ids of ``cluster``, in increasing order."""
        self._check_cluster(cluster)
        return range(cluster * self._per, (cluster + 1) * self._per)

    def coords(self, tbu: int) -> TbuCoords:
        """The cluster mesh position and the in-cluster position of ``tbu``."""
        self._check_tbu(tbu)
        cluster, local = divmod(tbu, self._per)
        cy, cx = divmod(cluster, self._cx)
        y, x = divmod(local, self._tx)
        return TbuCoords(cx, cy, x, y)

    def position(self, tbu: int) -> tuple[int, int]:
        """The ``(x, y)`` position of ``tbu`` on the global TBU mesh."""
        self._check_tbu(tbu)
        return self._pos[tbu]

    def tbu_at(self, x: int, y: int) -> int:
        """The TBU at global mesh position ``(x, y)``; the inverse of :meth:`position`."""
        if not (0 <= x < self._w and 0 <= y < self._h):
            raise IndexError(f"mesh position ({x}, {y}) outside {self._w}x{self._h}")
        cx, lx = divmod(x, self._tx)
        cy, ly = divmod(y, self._ty)
        return (cy * self._cx + cx) * self._per + ly * self._tx + lx

    def cluster_neighbors(self, cluster: int) -> list[int]:
        """Mesh neighbours of ``cluster`` that exist, in increasing id order (N, W, E, S)."""
        self._check_cluster(cluster)
        cy, cx = divmod(cluster, self._cx)
        out = []
        if cy > 0:
            out.append(cluster - self._cx)
        if cx > 0:
            out.append(cluster - 1)
        if cx < self._cx - 1:
            out.append(cluster + 1)
        if cy < self._cy - 1:
            out.append(cluster + self._cx)
        return out

    def cluster_distance(self, a: int, b: int) -> int:
        """Manhattan distance between clusters ``a`` and ``b`` on the cluster mesh (d2d hops)."""
        self._check_cluster(a)
        self._check_cluster(b)
        ay, ax = divmod(a, self._cx)
        by, bx = divmod(b, self._cx)
        return abs(ax - bx) + abs(ay - by)

    # --- routing -----------------------------------------------------------------------------
    def hops(self, src: int, dst: int) -> tuple[int, int]:
        """``(intra_hops, d2d_hops)`` of the XY route from TBU ``src`` to TBU ``dst``.

        ``(0, 0)`` when ``src == dst``. ``intra_hops + d2d_hops == len(route(src, dst))``.
        """
        self._check_tbu(src)
        self._check_tbu(dst)
        (sx, sy), (dx, dy) = self._pos[src], self._pos[dst]
        d2d = abs(sx // self._tx - dx // self._tx) + abs(sy // self._ty - dy // self._ty)
        return abs(sx - dx) + abs(sy - dy) - d2d, d2d

    def route(self, src: int, dst: int) -> tuple[int, ...]:
        """Link ids of the XY route from TBU ``src`` to TBU ``dst``, in travel order.

        Empty when ``src == dst``. Results are cached (hence a tuple, not a list).
        """
        self._check_tbu(src)
        self._check_tbu(dst)
        return self._route_cached(src, dst)

    def link_ends(self, link: int) -> tuple[int, int]:
        """``(from_tbu, to_tbu)`` of a directed link."""
        self._check_link(link)
        if link < self._num_h_links:
            pair, back = divmod(link, 2)
            y, x = divmod(pair, self._w - 1)
            a, b = self.tbu_at(x, y), self.tbu_at(x + 1, y)
        else:
            pair, back = divmod(link - self._num_h_links, 2)
            x, y = divmod(pair, self._h - 1)
            a, b = self.tbu_at(x, y), self.tbu_at(x, y + 1)
        return (b, a) if back else (a, b)

    def is_d2d(self, link: int) -> bool:
        """True when the link joins two clusters (a die-to-die link)."""
        a, b = self.link_ends(link)
        return a // self._per != b // self._per

    def link_name(self, link: int) -> str:
        """A readable name for traces, e.g. ``'tbu3->tbu16 d2d'`` or ``'tbu0->tbu1'``."""
        a, b = self.link_ends(link)
        return f"tbu{a}->tbu{b}" + (" d2d" if a // self._per != b // self._per else "")

    # --- internals ---------------------------------------------------------------------------
    def _global_pos(self, tbu: int) -> tuple[int, int]:
        c = self.coords(tbu)
        return c.cluster_x * self._tx + c.x, c.cluster_y * self._ty + c.y

    def _route(self, src: int, dst: int) -> tuple[int, ...]:
        (sx, sy), (dx, dy) = self._pos[src], self._pos[dst]
        row = sy * (self._w - 1)
        if dx >= sx:  # eastward: link ids (row + x) * 2 for the gap x -> x+1
            links = [(row + x) * 2 for x in range(sx, dx)]
        else:  # westward: the same gaps, the odd (reverse) link, walked right to left
            links = [(row + x) * 2 + 1 for x in range(sx - 1, dx - 1, -1)]
        col = self._num_h_links + dx * (self._h - 1) * 2
        if dy >= sy:
            links += [col + y * 2 for y in range(sy, dy)]
        else:
            links += [col + y * 2 + 1 for y in range(sy - 1, dy - 1, -1)]
        return tuple(links)

    def _check_tbu(self, tbu: int) -> None:
        if not 0 <= tbu < self._num_tbus:
            raise IndexError(f"TBU {tbu} out of range 0..{self._num_tbus - 1}")

    def _check_cluster(self, cluster: int) -> None:
        if not 0 <= cluster < self._cx * self._cy:
            raise IndexError(f"cluster {cluster} out of range 0..{self._cx * self._cy - 1}")

    def _check_link(self, link: int) -> None:
        if not 0 <= link < self._num_links:
            raise IndexError(f"link {link} out of range 0..{self._num_links - 1}")
