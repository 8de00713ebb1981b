"""The Dash pages load the browser hub client and carry its connection indicator."""

from __future__ import annotations

import httpx
import pytest

from tests.realtime.servers import WallServer


@pytest.mark.parametrize("page", ["/wall/", "/console/", "/warroom/"])
def test_pages_load_hub_js_and_show_hub_status(server: WallServer, page: str) -> None:
    base = f"http://127.0.0.1:{server.port}"
    html = httpx.get(base + page, timeout=10).text
    assert "hub.js" in html
    layout = httpx.get(base + page + "_dash-layout", timeout=10).text
    assert '"id":"hub-status"' in layout.replace(" ", "")
    script = httpx.get(base + page + "assets/hub.js", timeout=10)
    assert script.status_code == 200 and "WallHub" in script.text
