"""The live spatial index answers exactly what a brute-force scan answers, also under concurrent updates."""

from __future__ import annotations

import random
import threading

from hypothesis import given, settings
from hypothesis import strategies as st

from dispatchd.geo.distance import haversine_m
from dispatchd.geo.nearest import Member, NearestIndex

SKILLS = ("electric", "water", "gas", "general")
ORIGIN = (22.70, 114.30)


def brute_force(members, lat, lon, skill=None, department=None, available=True, max_m=None):
    """The oracle: every member passing the filters, ranked by haversine distance (ties by id)."""
    rows = []
    for m in members.values():
        if skill is not None and skill not in m.skills:
            continue
        if department is not None and m.department != department:
            continue
        if available is not None and m.available is not available:
            continue
        d = haversine_m(lat, lon, m.lat, m.lon)
        if max_m is None or d <= max_m:
            rows.append((d, m.id))
    return sorted(rows)


def assert_same(got, ranked, k):
    """The hits are k distinct members that pass the filters, at exactly the oracle's k best distances."""
    best = ranked[:k]
    passing = {worker_id: d for d, worker_id in ranked}
    assert len(got) == len(best)
    assert len({h.member.id for h in got}) == len(got)
    for hit, (d, _) in zip(got, best, strict=True):
        assert hit.member.id in passing
        assert abs(hit.distance_m - d) <= 1e-6 * max(1.0, d)
        assert abs(passing[hit.member.id] - d) <= 1e-6 * max(1.0, d)


def indexed(rows, cell_m: float) -> tuple[NearestIndex, dict[int, Member]]:
    """An index holding the generated rows (offsets from ORIGIN), and the members by id for the oracle."""
    index = NearestIndex(ORIGIN, cell_m=cell_m)
    members = {}
    for i, (dlat, dlon, skills, dept, avail) in enumerate(rows, start=1):
        members[i] = Member(i, ORIGIN[0] + dlat, ORIGIN[1] + dlon, skills, dept, avail)
        index.upsert(members[i])
    return index, members


members_st = st.lists(
    st.builds(
        lambda dlat, dlon, skills, dept, avail: (dlat, dlon, frozenset(skills), dept, avail),
        st.floats(-0.2, 0.2),
        st.floats(-0.2, 0.2),
        st.sets(st.sampled_from(SKILLS), max_size=2),
        st.one_of(st.none(), st.integers(1, 3)),
        st.booleans(),
    ),
    min_size=0,
    max_size=300,
)


@settings(max_examples=150, deadline=None)
@given(
    rows=members_st,
    query=st.tuples(st.floats(-0.3, 0.3), st.floats(-0.3, 0.3)),
    k=st.integers(1, 12),
    skill=st.one_of(st.none(), st.sampled_from(SKILLS + ("unknown",))),
    department=st.one_of(st.none(), st.integers(1, 3)),
    available=st.sampled_from([True, False, None]),
    max_m=st.one_of(st.none(), st.floats(10, 30_000)),
    cell_m=st.sampled_from([50.0, 250.0, 2000.0]),
)
def test_nearest_with_filters_matches_brute_force(rows, query, k, skill, department, available, max_m, cell_m):
    index, members = indexed(rows, cell_m)
    lat, lon = ORIGIN[0] + query[0], ORIGIN[1] + query[1]
    got = index.nearest(lat, lon, k, skill=skill, department=department, available=available, max_m=max_m)
    assert_same(got, brute_force(members, lat, lon, skill, department, available, max_m), k)


@settings(max_examples=60, deadline=None)
@given(moves=st.lists(st.tuples(st.integers(1, 40), st.floats(-0.05, 0.05), st.floats(-0.05, 0.05),
                                st.sets(st.sampled_from(SKILLS), max_size=2), st.booleans(), st.booleans()),
                      min_size=1, max_size=200),
       cell_m=st.sampled_from([300.0, 50_000.0]))  # large cells: most moves stay in their cell
def test_moves_skill_changes_and_removals_keep_the_index_exact(moves, cell_m):
    index = NearestIndex(ORIGIN, cell_m=cell_m)
    members: dict[int, Member] = {}
    for worker_id, dlat, dlon, skills, avail, remove in moves:
        if remove and worker_id in members:
            index.remove(worker_id)
            del members[worker_id]
            continue
        members[worker_id] = Member(worker_id, ORIGIN[0] + dlat, ORIGIN[1] + dlon, skills, None, avail)
        index.upsert(members[worker_id])
    assert len(index) == len(members)
    for skill in (None, *SKILLS):
        for available in (None, True, False):  # available workers are also in grids of their own
            got = index.nearest(*ORIGIN, 7, skill=skill, available=available)
            assert_same(got, brute_force(members, *ORIGIN, skill=skill, available=available), 7)
    for available in (None, True, False):
        got = index.within(*ORIGIN, 3000.0, available=available)
        ranked = brute_force(members, *ORIGIN, available=available, max_m=3000.0)
        assert_same(got, ranked, len(ranked))


def test_a_move_within_its_cell_is_seen_by_every_grid_of_the_worker():
    index = NearestIndex(ORIGIN, cell_m=1000.0)
    index.upsert(Member(1, *ORIGIN, frozenset({"water"}), 2, True))
    moved = Member(1, ORIGIN[0] + 0.001, ORIGIN[1], frozenset({"water"}), 2, False)  # 111 m north: same cell
    index.upsert(moved)
    for skill in (None, "water"):
        (hit,) = index.nearest(ORIGIN[0] + 0.001, ORIGIN[1], 1, skill=skill, available=None)
        assert hit.member == moved and hit.distance_m < 0.01
        assert index.nearest(*ORIGIN, 1, skill=skill) == []  # no longer available


def test_far_away_workers_are_still_found_when_nearer_ones_are_missing():
    index = NearestIndex(ORIGIN, cell_m=100.0)
    index.upsert(Member(1, 22.70, 114.30, frozenset({"general"})))
    index.upsert(Member(2, -33.86, 151.21, frozenset({"electric"})))  # Sydney
    index.upsert(Member(3, 51.50, -0.12, frozenset({"electric"})))  # London
    got = index.nearest(*ORIGIN, 2, skill="electric")
    assert [h.member.id for h in got] == [2, 3]
    assert abs(got[0].distance_m - haversine_m(*ORIGIN, -33.86, 151.21)) < 1e-3


def test_queries_during_concurrent_moves_see_every_worker_exactly_once():
    """Writers move workers between cells while readers query: no worker is ever missed or doubled."""
    index = NearestIndex(ORIGIN, cell_m=100.0)
    rng = random.Random(7)
    count = 60
    places = {i: (ORIGIN[0] + rng.uniform(-0.01, 0.01), ORIGIN[1] + rng.uniform(-0.01, 0.01)) for i in range(count)}
    for i, (lat, lon) in places.items():
        index.upsert(Member(i, lat, lon, frozenset({"general"})))
    stop = threading.Event()
    problems: list[str] = []

    def writer(seed: int) -> None:
        local = random.Random(seed)
        while not stop.is_set():
            i = local.randrange(count)
            lat, lon = ORIGIN[0] + local.uniform(-0.01, 0.01), ORIGIN[1] + local.uniform(-0.01, 0.01)
            index.upsert(Member(i, lat, lon, frozenset({"general"})))

    def reader() -> None:
        for _ in range(300):
            hits = index.nearest(*ORIGIN, count, skill="general")
            ids = [h.member.id for h in hits]
            if sorted(ids) != list(range(count)):
                problems.append(f"saw {len(ids)} hits, {len(set(ids))} distinct")
            if [h.distance_m for h in hits] != sorted(h.distance_m for h in hits):
                problems.append("hits out of order")

    writers = [threading.Thread(target=writer, args=(s,)) for s in range(3)]
    readers = [threading.Thread(target=reader) for _ in range(2)]
    for t in writers + readers:
        t.start()
    for t in readers:
        t.join()
    stop.set()
    for t in writers:
        t.join()
    assert problems == []
    final = {i: index.get(i) for i in range(count)}
    got = index.nearest(*ORIGIN, 5, skill="general")
    assert_same(got, brute_force(final, *ORIGIN, skill="general"), 5)


def test_dense_random_city_matches_brute_force_for_many_queries():
    rng = random.Random(11)
    index = NearestIndex(ORIGIN, cell_m=250.0)
    members = {}
    for i in range(1, 3001):
        skills = frozenset(rng.sample(SKILLS, rng.randint(0, 2)))
        members[i] = Member(i, ORIGIN[0] + rng.uniform(-0.05, 0.05), ORIGIN[1] + rng.uniform(-0.05, 0.05),
                            skills, rng.randint(1, 3), rng.random() < 0.7)
        index.upsert(members[i])
    for _ in range(300):
        lat, lon = ORIGIN[0] + rng.uniform(-0.06, 0.06), ORIGIN[1] + rng.uniform(-0.06, 0.06)
        k = rng.randint(1, 10)
        skill = rng.choice((None, *SKILLS))
        department = rng.choice((None, 1, 2, 3))
        got = index.nearest(lat, lon, k, skill=skill, department=department)
        assert_same(got, brute_force(members, lat, lon, skill, department), k)


@settings(max_examples=150, deadline=None)
@given(
    rows=members_st,
    query=st.tuples(st.floats(-0.3, 0.3), st.floats(-0.3, 0.3)),
    available=st.sampled_from([True, False, None]),
    radius_m=st.floats(0, 40_000),
    cell_m=st.sampled_from([50.0, 250.0, 2000.0]),
)
def test_within_a_radius_matches_brute_force(rows, query, available, radius_m, cell_m):
    index, members = indexed(rows, cell_m)
    lat, lon = ORIGIN[0] + query[0], ORIGIN[1] + query[1]
    got = index.within(lat, lon, radius_m, available=available)
    ranked = brute_force(members, lat, lon, available=available, max_m=radius_m)
    assert_same(got, ranked, len(ranked))


def test_within_stays_exact_as_rows_are_freed_reused_and_the_columns_grow():
    rng = random.Random(5)
    index = NearestIndex(ORIGIN)
    members: dict[int, Member] = {}

    def put(worker_id: int) -> None:
        members[worker_id] = Member(worker_id, ORIGIN[0] + rng.uniform(-0.03, 0.03),
                                    ORIGIN[1] + rng.uniform(-0.03, 0.03), available=rng.random() < 0.6)
        index.upsert(members[worker_id])

    def check() -> None:
        for available in (None, True, False):
            got = index.within(*ORIGIN, 2500.0, available=available)
            ranked = brute_force(members, *ORIGIN, available=available, max_m=2500.0)
            assert len(ranked) > 50
            assert_same(got, ranked, len(ranked))
            assert [h.member for h in got] == [members[h.member.id] for h in got]  # the latest state

    for worker_id in range(1, 3001):  # past the first allocation of rows
        put(worker_id)
    check()
    for worker_id in rng.sample(sorted(members), 1500):  # freed rows must never answer
        index.remove(worker_id)
        del members[worker_id]
    check()
    for worker_id in range(5001, 6001):  # new workers take the freed rows
        put(worker_id)
    for worker_id in rng.sample(sorted(members), 800):  # moves and availability changes in place
        put(worker_id)
    check()
    assert len(index) == len(members) == 2500


class _ThenLock:
    """The index's lock, running `then` once just before its second acquisition: within() reads the members
    of the rows its scan kept then, after copying the columns under the first."""

    def __init__(self, then) -> None:
        self.lock, self.then, self.count = threading.Lock(), then, 0

    def __enter__(self) -> None:
        self.count += 1
        if self.count == 2:
            self.then()  # takes the lock itself, as any other thread's update would
        self.lock.acquire()

    def __exit__(self, *exc) -> None:
        self.lock.release()


def test_within_skips_a_worker_that_left_after_the_copy_and_the_newcomer_in_its_row():
    index = NearestIndex(ORIGIN)
    members = {w: Member(w, ORIGIN[0] + w / 100_000, ORIGIN[1]) for w in range(1, 201)}
    index.upsert_many(members.values())
    at_copy = dict(members)
    moved = Member(7, ORIGIN[0] + 0.0001, ORIGIN[1] + 0.0001)

    def meanwhile() -> None:
        index.remove(150)
        index.upsert(Member(999, ORIGIN[0], ORIGIN[1]))  # takes the freed row: the scan saw it as 150's
        index.upsert(moved)

    index._lock = _ThenLock(meanwhile)
    got = index.within(*ORIGIN, 5_000.0)
    assert index._lock.count > 2  # the updates did run between the copy and the member read
    del at_copy[150]
    ranked = brute_force(at_copy, *ORIGIN, max_m=5_000.0)
    assert [h.member.id for h in got] == [worker_id for _, worker_id in ranked]  # neither 150 nor 999
    assert next(h.member for h in got if h.member.id == 7) is moved  # the current record, at the copy's place
    assert index.within(*ORIGIN, 1.0)[0].member.id == 999  # and the next query finds the newcomer
