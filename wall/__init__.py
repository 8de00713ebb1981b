"""Django project of the command wall: settings, ASGI router, auth and roles, URLs and the CLI."""
