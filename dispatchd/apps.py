"""App config of the dispatch domain."""

from django.apps import AppConfig


class DispatchdConfig(AppConfig):
    name = "dispatchd"
    verbose_name = "Dispatch"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from dispatchd.field import fences, live
        from dispatchd.geo import gridindex, roads
        from dispatchd.incidents import acks, dispatch

        gridindex.connect_signals()
        fences.connect_signals()
        live.connect_signals()
        acks.connect_signals()
        dispatch.connect_signals()
        roads.road_graph()  # a bad WALL_ROAD_GRAPH file stops the process at start-up with RoadGraphError
