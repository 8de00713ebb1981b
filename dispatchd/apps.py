"""App config of the dispatch domain."""

from django.apps import AppConfig


class DispatchdConfig(AppConfig):
    name = "dispatchd"
    verbose_name = "Dispatch"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from dispatchd.geo.gridindex import connect_signals

        connect_signals()
