"""Dash layouts: wall, console, war room, playback. They talk to the rest over HTTP and WebSocket."""
