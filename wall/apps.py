"""App config of the wall project."""

from django.apps import AppConfig


class WallConfig(AppConfig):
    name = "wall"
    verbose_name = "Command wall"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from wall import logins

        logins.connect_signals()
