"""GET /api/workers/{id}/live: every worker the database knows answers 200, whatever the live store holds."""

from __future__ import annotations

from dispatchd.field import live
from dispatchd.field.store import MemoryStore
from dispatchd.models import Worker


class ForgetfulStore(MemoryStore):
    """A live store that takes no loads from the database (as if it had lost them)."""

    def load(self, states) -> None:
        """Drop the states."""


def test_a_worker_created_after_the_store_was_built_is_live(city, api_as):
    wall = api_as("wall")
    assert wall.get(f"workers/{city.workers[0].id}/live").status_code == 200  # builds the store
    late = Worker.objects.create(code="W99", name="Late", state="on_duty", department=city.workers[0].department)
    response = wall.get(f"workers/{late.id}/live")
    assert response.status_code == 200, response.content
    assert (response.json()["worker_id"], response.json()["duty"]) == (late.id, "on_duty")


def test_a_worker_missing_from_the_store_is_answered_from_the_database(city, api_as):
    live.use_store(ForgetfulStore())
    worker = city.workers[1]
    response = api_as("commander").get(f"workers/{worker.id}/live")
    assert response.status_code == 200, response.content
    assert response.json()["worker_id"] == worker.id


def test_an_unknown_worker_is_a_json_404(city, api_as):
    response = api_as("commander").get("workers/987654/live")
    assert (response.status_code, response.json()["error"]) == (404, "not_found")
