"""Travel time over a road graph: load it, snap points to its nodes, and rank workers by road ETA to a case.

The graph file is JSON (see docs/operations.md, "Road graph"):
`{"nodes": [{"id", "lat", "lon"}, …], "edges": [{"from", "to", "speed_kmh" | "travel_s", "length_m"?, "oneway"?}, …]}`.
A point reaches the graph by a straight leg to its nearest node (found with a k-d tree over the
nodes' 3-D positions, which ranks them exactly as the great-circle distance does) at the access
speed. One single-source Dijkstra from the case's node over the reversed graph gives every node's
travel time *to* the case; a worker's ETA is its leg + that time + the case's leg.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from dispatchd.geo.distance import chord_to_arc_m, haversine_m, local_frame, to_frame, valid_point

MIN_TRAVEL_S = 1e-3  # an edge always costs something, so that no zero weight is taken for a missing edge


class RoadGraphError(ValueError):
    """The road graph file is missing or malformed; the message names the file and the fault."""


@dataclass(frozen=True, slots=True)
class Edge:
    """A directed road segment between node indices, with its length and travel time."""

    source: int
    target: int
    length_m: float
    travel_s: float


@dataclass(frozen=True, slots=True)
class RoadRank:
    """One candidate placed by the road ranking: its index in the input, road ETA and route (None: unreachable)."""

    index: int
    eta_s: float | None
    route_m: float | None


class RoadGraph:
    """A directed road graph with a nearest-node index and travel times to a point."""

    def __init__(self, lats: Sequence[float], lons: Sequence[float], edges: Sequence[Edge],
                 access_speed_mps: float = 1.4) -> None:
        """Nodes by index (lat/lon), directed edges between them, and the speed of the leg to the nearest node."""
        if len(lats) < 1 or len(lats) != len(lons):
            raise RoadGraphError("a road graph needs nodes with lat and lon")
        if not access_speed_mps > 0:
            raise RoadGraphError("the access speed must be positive")
        self.size = len(lats)
        self.access_speed_mps = float(access_speed_mps)
        self._frame = local_frame(float(np.mean(lats)), float(np.mean(lons)))
        self._tree = cKDTree(np.array([to_frame(la, lo, self._frame) for la, lo in zip(lats, lons, strict=True)]))
        best: dict[tuple[int, int], Edge] = {}  # parallel edges: keep the fastest
        for e in edges:
            key = (e.target, e.source)  # reversed: Dijkstra from the case gives times *to* it
            if e.source != e.target and (key not in best or e.travel_s < best[key].travel_s):
                best[key] = e
        keys = list(best)
        rows = np.array([k[0] for k in keys], dtype=np.int64)
        cols = np.array([k[1] for k in keys], dtype=np.int64)
        shape = (self.size, self.size)
        times = np.array([max(MIN_TRAVEL_S, best[k].travel_s) for k in keys], dtype=float)
        self._to_case = csr_matrix((times, (rows, cols)), shape=shape)
        self._length = csr_matrix((np.array([best[k].length_m for k in keys], dtype=float), (rows, cols)), shape=shape)
        self.edge_count = len(keys)

    @classmethod
    def from_file(cls, path: str | Path, access_speed_mps: float = 1.4) -> RoadGraph:
        """Load a JSON graph file; RoadGraphError names the file and what is wrong with it."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise RoadGraphError(f"road graph {path}: cannot read: {exc.strerror or exc}") from exc
        except ValueError as exc:
            raise RoadGraphError(f"road graph {path}: not JSON: {exc}") from exc
        try:
            lats, lons, edges = parse_graph(data)
            return cls(lats, lons, edges, access_speed_mps)
        except RoadGraphError as exc:
            raise RoadGraphError(f"road graph {path}: {exc}") from None

    def snap(self, lat: float, lon: float) -> tuple[int, float]:
        """The nearest node's index and the great-circle distance to it in metres."""
        chord, node = self._tree.query(to_frame(lat, lon, self._frame))
        return int(node), chord_to_arc_m(float(chord))

    def times_to(self, lat: float, lon: float, points: Sequence[tuple[float, float]]) -> list[RoadRank]:
        """Road ETA and route length from each point to (lat, lon), in input order (None: no road route)."""
        if not points:
            return []
        case_node, case_leg = self.snap(lat, lon)
        times, pred = dijkstra(self._to_case, directed=True, indices=case_node, return_predecessors=True)
        routes = self._route_lengths(pred)
        chords, nodes = self._tree.query(np.array([to_frame(p_lat, p_lon, self._frame) for p_lat, p_lon in points]))
        out = []
        for index, (chord, node) in enumerate(zip(chords.tolist(), nodes.tolist(), strict=True)):
            if not math.isfinite(times[node]):
                out.append(RoadRank(index, None, None))
                continue
            legs = case_leg + chord_to_arc_m(chord)
            out.append(RoadRank(index, float(times[node]) + legs / self.access_speed_mps, float(routes[node]) + legs))
        return out

    def _route_lengths(self, pred: np.ndarray) -> np.ndarray:
        """Length of each node's shortest-time route to the source, by pointer jumping up the predecessor tree."""
        nodes = np.arange(self.size)
        ptr = np.where(pred >= 0, pred, -1)
        has = ptr >= 0
        acc = np.zeros(self.size)
        acc[has] = np.asarray(self._length[ptr[has], nodes[has]]).ravel()
        while has.any():
            acc[has] += acc[ptr[has]]
            nxt = np.full(self.size, -1)
            nxt[has] = ptr[ptr[has]]
            ptr, has = nxt, nxt >= 0
        return acc

    def rank(self, lat: float, lon: float, points: Sequence[tuple[float, float]], ids: Sequence[int],
             k: int) -> list[RoadRank]:
        """The k points nearest (lat, lon) by road: by ETA, ties by id; unreachable ones last, in input order."""
        ranks = self.times_to(lat, lon, points)
        reachable = sorted((r for r in ranks if r.eta_s is not None), key=lambda r: (r.eta_s, ids[r.index]))
        return (reachable + [r for r in ranks if r.eta_s is None])[:k]


def _number(value: Any, what: str, low: float = -math.inf, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise RoadGraphError(f"{what} must be a finite number")
    if not low < value <= high:
        raise RoadGraphError(f"{what} must be in ({low:g}, {high:g}]")
    return float(value)


def parse_graph(data: Any) -> tuple[list[float], list[float], list[Edge]]:
    """Nodes (lats, lons) and edges of a graph document; RoadGraphError on the first fault found."""
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list) or not isinstance(data.get("edges"), list):
        raise RoadGraphError('expected {"nodes": [...], "edges": [...]}')
    index: dict[Any, int] = {}
    lats, lons = [], []
    for n, node in enumerate(data["nodes"]):
        if not isinstance(node, dict) or not isinstance(node.get("id"), (int, str)) or isinstance(node["id"], bool):
            raise RoadGraphError(f"nodes[{n}]: an object with an id (integer or string), lat and lon")
        lat, lon = _number(node.get("lat"), f"nodes[{n}].lat"), _number(node.get("lon"), f"nodes[{n}].lon")
        if not valid_point(lat, lon):
            raise RoadGraphError(f"nodes[{n}]: lat/lon out of range")
        if node["id"] in index:
            raise RoadGraphError(f"nodes[{n}]: duplicate id {node['id']!r}")
        index[node["id"]] = len(lats)
        lats.append(lat)
        lons.append(lon)
    if not lats:
        raise RoadGraphError("no nodes")
    edges = []
    for n, edge in enumerate(data["edges"]):
        if not isinstance(edge, dict):
            raise RoadGraphError(f"edges[{n}]: an object")
        ends = []
        for end in ("from", "to"):
            key = edge.get(end)
            if isinstance(key, bool) or not isinstance(key, (int, str)) or key not in index:
                raise RoadGraphError(f"edges[{n}].{end}: unknown node {key!r}")
            ends.append(index[key])
        a, b = ends
        if "length_m" in edge:
            length = _number(edge["length_m"], f"edges[{n}].length_m", -1e-9, 1e6)
        else:
            length = haversine_m(lats[a], lons[a], lats[b], lons[b])
        if "travel_s" in edge:
            travel = _number(edge["travel_s"], f"edges[{n}].travel_s", 0, 1e6)
        elif "speed_kmh" in edge:
            travel = length / (_number(edge["speed_kmh"], f"edges[{n}].speed_kmh", 0, 300) / 3.6)
        else:
            raise RoadGraphError(f"edges[{n}]: needs speed_kmh or travel_s")
        oneway = edge.get("oneway", False)
        if not isinstance(oneway, bool):
            raise RoadGraphError(f"edges[{n}].oneway must be true or false")
        edges.append(Edge(a, b, length, travel))
        if not oneway:
            edges.append(Edge(b, a, length, travel))
    return lats, lons, edges


_loaded: tuple[str, float, RoadGraph] | None = None
_lock = threading.Lock()


def road_graph() -> RoadGraph | None:
    """The graph named by the WALL_ROAD_GRAPH setting (loaded once per path), or None when none is configured."""
    global _loaded
    from django.conf import settings

    path = str(getattr(settings, "WALL_ROAD_GRAPH", "") or "")
    if not path:
        return None
    speed = float(getattr(settings, "WALL_ROAD_ACCESS_SPEED_MPS", 1.4))
    with _lock:
        if _loaded is None or _loaded[:2] != (path, speed):
            _loaded = (path, speed, RoadGraph.from_file(path, speed))
        return _loaded[2]
