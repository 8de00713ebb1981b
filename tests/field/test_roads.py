"""Travel-time re-rank over a road graph: exact against a brute-force oracle, across a river, unreachable
workers, no graph, bad graph files, and the demo district's synthetic graph."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

import wall.api.workers  # noqa: F401 - registers the router until wall/api/__init__ imports it
from dispatchd.demo.geography import DEFAULT_SEED, build_geography
from dispatchd.demo.roads import STREET_KMH, build_road_graph
from dispatchd.field import pipeline
from dispatchd.geo.distance import haversine_m
from dispatchd.geo.roads import RoadGraph, RoadGraphError, parse_graph
from tests.field.conftest import fix

M_LAT = 1 / 110_750  # degrees of latitude per metre
M_LON = 1 / 102_200  # degrees of longitude per metre at 22.7° N
LAT0, LON0 = 22.70, 114.30
ACCESS = 1.4


def _at(east_m: float, north_m: float) -> tuple[float, float]:
    return LAT0 + north_m * M_LAT, LON0 + east_m * M_LON


# -- the ranking against a brute-force oracle ---------------------------------------------------

@st.composite
def scenes(draw):
    """A small random directed graph, a case point and a pool of worker points (some shared) with ids."""
    n = draw(st.integers(2, 9))
    nodes = draw(st.lists(st.tuples(st.floats(0, 3000), st.floats(0, 3000)), min_size=n, max_size=n,
                          unique_by=lambda p: (round(p[0]), round(p[1]))))
    edges = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.floats(1, 900), st.booleans()),
                          max_size=3 * n))
    spots = draw(st.lists(st.tuples(st.floats(-200, 3200), st.floats(-200, 3200)), min_size=1, max_size=6))
    pool = draw(st.lists(st.sampled_from(spots), min_size=1, max_size=10))
    ids = draw(st.permutations(range(1, len(pool) + 1)))
    case = draw(st.tuples(st.floats(-200, 3200), st.floats(-200, 3200)))
    k = draw(st.integers(1, len(pool)))
    return nodes, edges, pool, list(ids), case, k


def _oracle(nodes, edges, pool, ids, case, k) -> list[tuple[int, float | None]]:
    """(id, road ETA) of the k best by brute force: Floyd–Warshall, snapping by scanning every node."""
    n = len(nodes)
    cost = np.full((n, n), math.inf)
    np.fill_diagonal(cost, 0)
    for a, b, travel, oneway in edges:
        if a != b:
            cost[a, b] = min(cost[a, b], travel)
            if not oneway:
                cost[b, a] = min(cost[b, a], travel)
    for m in range(n):
        cost = np.minimum(cost, cost[:, m:m + 1] + cost[m:m + 1, :])
    points = [_at(*p) for p in nodes]

    def snap(east: float, north: float) -> tuple[int, float]:
        lat, lon = _at(east, north)
        far = sorted((haversine_m(lat, lon, *p), i) for i, p in enumerate(points))
        assume(len(far) == 1 or far[1][0] - far[0][0] > 1e-3)  # the nearest node is unambiguous
        return far[0][1], far[0][0]

    case_node, case_leg = snap(*case)
    etas = []
    for spot in pool:
        node, leg = snap(*spot)
        road = cost[node, case_node]
        etas.append(road + (leg + case_leg) / ACCESS if math.isfinite(road) else None)
    order = sorted(range(len(pool)), key=lambda i: (0, etas[i], ids[i]) if etas[i] is not None else (1, 0, i))
    return [(ids[i], etas[i]) for i in order[:k]]


@hypothesis_settings(max_examples=300, deadline=None)
@given(scenes())
def test_road_ranking_returns_exactly_the_k_smallest_road_etas_of_the_pool(scene):
    nodes, edges, pool, ids, case, k = scene
    expected = _oracle(*scene)
    lats, lons = zip(*(_at(*p) for p in nodes), strict=True)
    document = {
        "nodes": [{"id": f"n{i}", "lat": la, "lon": lo} for i, (la, lo) in enumerate(zip(lats, lons, strict=True))],
        "edges": [{"from": f"n{a}", "to": f"n{b}", "travel_s": t, "oneway": o} for a, b, t, o in edges],
    }
    graph = RoadGraph(*parse_graph(document), access_speed_mps=ACCESS)
    got = graph.rank(*_at(*case), [_at(*p) for p in pool], ids, k)
    assert len(got) == len(expected) == k
    for rank, (_want_id, want_eta) in zip(got, expected, strict=True):
        if want_eta is None:
            assert rank.eta_s is None and rank.route_m is None
        else:
            assert rank.eta_s == pytest.approx(want_eta, rel=1e-9, abs=1e-6)
    # so the ETAs returned are the k smallest; equal ETAs come in id order; the unreachable come last
    got_ids = [ids[r.index] for r in got]
    for (a, ra), (b, rb) in zip(zip(got_ids, got, strict=True), zip(got_ids[1:], got[1:], strict=True), strict=False):
        if ra.eta_s is not None and ra.eta_s == rb.eta_s:
            assert a < b
        if ra.eta_s is None:
            assert rb.eta_s is None


# -- through the API ------------------------------------------------------------------------------

def _write(path: Path, nodes: dict[str, tuple[float, float]], edges: list[tuple[str, str, float]]) -> Path:
    doc = {"nodes": [{"id": key, "lat": _at(*en)[0], "lon": _at(*en)[1]} for key, en in nodes.items()],
           "edges": [{"from": a, "to": b, "speed_kmh": kmh} for a, b, kmh in edges]}
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture
def river_graph(tmp_path, settings):
    """A river runs north–south at x = 150 m; the only bridge is 3 km north. An island east of it has no bridge."""
    nodes = {"case": (0, 0), "west": (-800, 0), "bridge_w": (0, 3000), "bridge_e": (300, 3000), "east": (300, 0),
             "island_a": (300, -2000), "island_b": (400, -2000)}
    edges = [("case", "west", 36), ("case", "bridge_w", 36), ("bridge_w", "bridge_e", 36), ("bridge_e", "east", 36),
             ("island_a", "island_b", 36)]
    settings.WALL_ROAD_GRAPH = str(_write(tmp_path / "roads.json", nodes, edges))
    settings.WALL_ROAD_ACCESS_SPEED_MPS = ACCESS


def _place(city, clock, events, spots: list[tuple[float, float]]) -> None:
    with events.committing():
        pipeline.ingest([fix(w, *_at(*spot), clock.now) for w, spot in zip(city.workers, spots, strict=False)])


def test_across_a_river_the_road_order_differs_from_the_straight_line_order(city, clock, events, api_as,
                                                                             river_graph):
    _place(city, clock, events, [(300, 0), (-800, 0)])  # W0 just across the river, W1 800 m away on this bank
    body = api_as("commander").get("workers/nearest", {"lat": LAT0, "lon": LON0, "k": 2}).json()
    assert [r["code"] for r in body] == ["W1", "W0"]
    assert {r["ranked_by"] for r in body} == {"road"} and all(r["reachable"] for r in body)
    w1, w0 = body
    assert w1["route_m"] == pytest.approx(800, rel=0.01) and w1["eta_s"] == pytest.approx(80, rel=0.01)  # 36 km/h
    assert w0["route_m"] == pytest.approx(6300, rel=0.01) and w0["distance_m"] == pytest.approx(300, rel=0.01)
    assert w0["eta_s"] == pytest.approx(630, rel=0.01)


def test_a_worker_with_no_road_to_the_case_is_ranked_last_and_flagged(city, clock, events, api_as, river_graph):
    _place(city, clock, events, [(300, -2000), (-800, 0), (300, 0)])  # W0 on the island
    body = api_as("commander").get("workers/nearest", {"lat": LAT0, "lon": LON0, "k": 3}).json()
    assert [r["code"] for r in body] == ["W1", "W2", "W0"]
    island = body[-1]
    assert island["reachable"] is False and island["route_m"] is None and island["ranked_by"] == "road"
    assert island["eta_s"] == pytest.approx(island["distance_m"] / 3.0, abs=0.2)  # the straight-line ETA


def test_k_is_cut_after_the_road_re_rank_of_a_larger_straight_line_pool(city, clock, events, api_as, river_graph):
    _place(city, clock, events, [(300, 0), (-800, 0)])
    body = api_as("commander").get("workers/nearest", {"lat": LAT0, "lon": LON0, "k": 1}).json()
    assert [r["code"] for r in body] == ["W1"]  # not the straight-line nearest W0


def test_without_a_road_graph_the_nearest_api_ranks_by_straight_line_as_before(city, clock, events, api_as,
                                                                                settings):
    settings.WALL_ROAD_GRAPH = ""
    _place(city, clock, events, [(300, 0), (-800, 0)])
    body = api_as("commander").get("workers/nearest", {"lat": LAT0, "lon": LON0, "k": 2}).json()
    assert [r["code"] for r in body] == ["W0", "W1"]
    assert all(r["ranked_by"] == "straight_line" and r["route_m"] is None and r["reachable"] is None for r in body)
    assert body[0]["eta_s"] == pytest.approx(body[0]["distance_m"] / 3.0, abs=0.1)


# -- bad graph files ------------------------------------------------------------------------------

@pytest.mark.parametrize(("document", "message"), [
    ({"nodes": []}, 'expected {"nodes": [...], "edges": [...]}'),
    ({"nodes": [], "edges": []}, "no nodes"),
    ({"nodes": [{"id": 1, "lat": 95, "lon": 114}], "edges": []}, "nodes[0]: lat/lon out of range"),
    ({"nodes": [{"id": 1, "lat": 22, "lon": 114}, {"id": 1, "lat": 22, "lon": 115}], "edges": []},
     "nodes[1]: duplicate id 1"),
    ({"nodes": [{"id": 1, "lat": 22, "lon": 114}], "edges": [{"from": 1, "to": 2, "speed_kmh": 30}]},
     "edges[0].to: unknown node 2"),
    ({"nodes": [{"id": 1, "lat": 22, "lon": 114}], "edges": [{"from": 1, "to": 1, "speed_kmh": 0}]},
     "edges[0].speed_kmh must be in (0, 300]"),
    ({"nodes": [{"id": 1, "lat": 22, "lon": 114}], "edges": [{"from": 1, "to": 1}]},
     "edges[0]: needs speed_kmh or travel_s"),
])
def test_a_malformed_graph_is_refused_with_the_fault_named(tmp_path, document, message):
    path = tmp_path / "roads.json"
    path.write_text(json.dumps(document))
    with pytest.raises(RoadGraphError) as caught:
        RoadGraph.from_file(path)
    assert str(caught.value) == f"road graph {path}: {message}"


def test_a_bad_graph_file_stops_the_process_at_start_up_with_a_clear_error(tmp_path):
    path = tmp_path / "roads.json"
    path.write_text('{"nodes": [{"id": 1, "lat": 22.7, "lon": 114.3}], "edges": [{"from": 1, "to": 9}]')
    env = {**os.environ, "WALL_ROAD_GRAPH": str(path), "WALL_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    done = subprocess.run([sys.executable, "-m", "wall.cli", "manage", "check"], env=env, capture_output=True,
                          text=True, timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode != 0
    assert f"RoadGraphError: road graph {path}: not JSON" in done.stderr
    path.write_text('{"nodes": [{"id": 1, "lat": 22.7, "lon": 114.3}], "edges": [{"from": 1, "to": 9}]}')
    done = subprocess.run([sys.executable, "-m", "wall.cli", "manage", "check"], env=env, capture_output=True,
                          text=True, timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode != 0 and f"road graph {path}: edges[0].to: unknown node 9" in done.stderr


# -- the demo district's graph --------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo():
    geography = build_geography(DEFAULT_SEED)
    return geography, build_road_graph(geography)


def test_the_demo_graph_bridges_the_river_only_on_main_roads_and_leaves_the_park_empty(demo):
    import shapely
    from shapely.geometry import LineString

    geography, doc = demo
    graph = RoadGraph(*parse_graph(doc))
    assert graph.size == len(doc["nodes"]) > 1000
    where = {n["id"]: (n["lon"], n["lat"]) for n in doc["nodes"]}
    lines = [LineString([where[e["from"]], where[e["to"]]]) for e in doc["edges"]]
    crossing = shapely.intersects(np.array(lines, dtype=object), geography.river.line)
    bridges = [e for e, c in zip(doc["edges"], crossing, strict=True) if c]
    assert bridges and all(e["speed_kmh"] > STREET_KMH for e in bridges)
    assert any(e["speed_kmh"] > STREET_KMH for e in doc["edges"])
    park = doc["about"]["park"]
    assert min(haversine_m(park["lat"], park["lon"], lat, lon) for lon, lat in where.values()) > park["radius_m"]


def test_in_the_demo_district_road_order_and_straight_line_order_differ(demo):
    _geography, doc = demo
    graph = RoadGraph(*parse_graph(doc))
    rng = np.random.default_rng(5)
    nodes = doc["nodes"]
    differ = 0
    for _ in range(20):
        case = nodes[rng.integers(len(nodes))]
        pool = [nodes[i] for i in rng.choice(len(nodes), 20, replace=False)]
        points = [(n["lat"], n["lon"]) for n in pool]
        straight = sorted(range(20), key=lambda i: haversine_m(case["lat"], case["lon"], *points[i]))
        road = [r.index for r in graph.rank(case["lat"], case["lon"], points, list(range(20)), 20)]
        assert all(r.eta_s is not None for r in graph.times_to(case["lat"], case["lon"], points))  # one component
        differ += straight[:5] != road[:5]
    assert differ >= 5
