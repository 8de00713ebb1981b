"""`wall simulate cameras`: options become a camera config; the cameras register with the platform."""

from __future__ import annotations

import asyncio

import pytest

from tests.gb28181.conftest import PASSWORD, eventually
from video.gb28181.simulator import cli


def test_misbehaviour_options_reach_the_camera_config():
    args = cli.build_parser().parse_args([
        "--count", "3", "--transport", "tcp", "--no-psm", "--stuffing", "5", "--pes-payload", "900",
        "--zero-pes-length", "--loss", "0.01", "--reorder", "0.1", "--size", "1280x720", "--bitrate", "1500",
    ])
    config = cli.config_from(args)
    assert config.transport == "TCP" and (config.width, config.height) == (1280, 720) and config.bitrate_kbps == 1500
    assert (config.loss, config.reorder) == (0.01, 0.1)
    assert config.mux.psm is False and config.mux.stuffing == 5 and config.mux.pes_payload == 900
    assert config.mux.zero_pes_length is True


@pytest.mark.parametrize("bad", [["--size", "big"], ["--size", "641x360"], ["--loss", "1.5"], ["--stuffing", "9"],
                                 ["--transport", "sctp"], ["--count", "many"]])
def test_bad_options_are_refused_by_the_parser(bad):
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(bad)


def test_an_out_of_range_pes_payload_is_refused_with_exit_code_2(capsys):
    assert cli.run(["--pes-payload", "0"]) == 2
    assert "--pes-payload" in capsys.readouterr().out


async def test_simulate_registers_the_cameras_and_stops_them_when_cancelled(platform):
    args = cli.build_parser().parse_args(["--server-port", str(platform.port), "--password", PASSWORD,
                                          "--server-id", platform.settings.platform_id,
                                          "--domain", platform.settings.domain])
    task = asyncio.ensure_future(cli.simulate(3, cli.config_from(args)))
    await eventually(lambda: sum(d.online for d in platform.registry.devices.values()) == 3)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
