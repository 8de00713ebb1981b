"""The process-wide live store: Redis-backed when REDIS_URL is set, else in memory; filled from the database."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from django.conf import settings
from django.db.models.signals import post_save

from dispatchd.field.state import OFF_DUTY, ON_DUTY, LiveState
from dispatchd.field.store import LiveStore, MemoryStore

_store: LiveStore | None = None
_lock = threading.Lock()


def states_from_db(worker_ids: Iterable[int] | None = None) -> list[LiveState]:
    """Live states as the database remembers them (position = last stored one)."""
    from dispatchd.models import DispatchOrder, OrderState, Worker

    workers = Worker.objects.all() if worker_ids is None else Worker.objects.filter(pk__in=list(worker_ids))
    open_orders = dict(
        DispatchOrder.objects.filter(state__in=[OrderState.OFFERED, OrderState.ACCEPTED])
        .order_by("offered_at")
        .values_list("worker_id", "case_id")
    )
    out = []
    for w in workers:
        duty = ON_DUTY if w.state == "busy" else w.state if w.state in (ON_DUTY, OFF_DUTY, "offline") else OFF_DUTY
        positioned = w.lat is not None and w.lon is not None and w.last_seen is not None
        out.append(
            LiveState(
                worker_id=w.id, skills=frozenset(w.skills or ()), department=w.department_id, grid_id=w.grid_id,
                duty=duty, busy=w.state == "busy", case_id=open_orders.get(w.id),
                lat=w.lat if positioned else None, lon=w.lon if positioned else None,
                t=w.last_seen.timestamp() if positioned else None,
            )
        )
    return out


def live_store() -> LiveStore:
    """The live store of this process, created and loaded from the database on first use."""
    global _store
    with _lock:
        if _store is None:
            if settings.REDIS_URL:
                from dispatchd.field.redis_store import RedisStore

                store: LiveStore = RedisStore(settings.REDIS_URL)
            else:
                store = MemoryStore()
            store.load(states_from_db())
            _store = store
        return _store


def use_store(store: LiveStore | None) -> None:
    """Replace the process's live store (None: build a fresh one on next use), e.g. between tests."""
    global _store
    with _lock:
        _store = store


def ensure_known(store: LiveStore, worker_ids: Iterable[int]) -> None:
    """Load workers the store has not seen yet (created after start-up) from the database."""
    missing = [i for i in worker_ids if store.get(i) is None]
    if missing:
        store.load(states_from_db(missing))


def current_state(store: LiveStore, worker_id: int) -> LiveState | None:
    """A worker's live state; None only when the database has no such worker.

    The store's state (the worker loaded into it first if it has not seen it yet), else the database's own.
    """
    ensure_known(store, [worker_id])
    store.sync()
    state = store.get(worker_id)
    if state is None:  # a store that did not take the load, or a row that was gone when we loaded it
        state = next(iter(states_from_db([worker_id])), None)
    return state


def _worker_saved(sender, instance, created: bool, **_kwargs) -> None:
    if _store is None:
        return
    if _store.get(instance.id) is None:
        _store.load(states_from_db([instance.id]))
    else:
        _store.update(
            instance.id, skills=frozenset(instance.skills or ()), department=instance.department_id,
            grid_id=instance.grid_id,
        )


def connect_signals() -> None:
    """Keep skills, department and grid of live workers in step with edits of the Worker rows."""
    from dispatchd.models import Worker

    post_save.connect(_worker_saved, sender=Worker, dispatch_uid="live-worker-saved")
