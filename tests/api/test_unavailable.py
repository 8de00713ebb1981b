"""A backing service that stops answering gives 503 with Retry-After, never a 500."""

from __future__ import annotations

from django.utils import timezone

from bench.procs import RedisServer
from dispatchd.field.live import states_from_db, use_store
from dispatchd.field.redis_store import RedisStore
from dispatchd.models import PositionFix


def test_positions_answer_503_while_redis_is_down_and_are_taken_once_it_is_back(city, commander, tmp_path):
    redis = RedisServer(tmp_path, persistent=True).start()
    try:
        store = RedisStore(redis.url)
        store.load(states_from_db())
        use_store(store)
        worker = city.workers[0]
        items = [{"worker_id": worker.id, "lat": 22.705, "lon": 114.305, "at": timezone.now().isoformat()}]
        redis.stop(kill=True)
        answer = commander.post("positions", {"items": items})
        assert answer.status_code == 503, answer.content
        assert answer.json()["error"] == "unavailable"
        assert answer["Retry-After"] == "1"
        redis.start()
        retried = commander.post("positions", {"items": items})
        assert retried.status_code == 200, retried.content
        assert retried.json()["accepted"] + retried.json()["duplicates"] == 1
        assert PositionFix.objects.filter(worker=worker).count() == 1
        assert store.get(worker.id).lat == 22.705
    finally:
        use_store(None)
        redis.stop()
