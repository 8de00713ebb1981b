"""Each case is placed in its grid cell on creation; a point outside every cell is kept and flagged."""

from __future__ import annotations

from dispatchd.geo.gridindex import locate
from tests.dispatchd.helpers import report


def test_a_case_lands_in_the_cell_that_holds_its_point(city):
    for index, cell in enumerate(city.cells):
        case = report(city, cell=index)
        assert (case.grid_id, case.community_id, case.street_id) == (
            cell.id, cell.community_id, cell.community.street_id
        )
        assert case.outside_area is False


def test_a_point_outside_every_cell_is_accepted_with_no_grid_and_flagged(city, events):
    with events.committing():
        case = report(city, lat=23.5, lon=113.0)
    assert (case.grid_id, case.street_id, case.outside_area) == (None, None, True)
    assert case.timeline.get().data["outside_area"] is True
    assert events.data("case.created")[0]["outside_area"] is True


def test_a_point_on_a_shared_edge_goes_to_one_cell(city):
    west, east = city.cells[0], city.cells[1]
    edge_lon = east.polygon["coordinates"][0][0][0]
    assert locate(22.705, edge_lon).grid_id == min(west.id, east.id)


def test_a_new_cell_is_found_without_a_restart(city):
    assert locate(22.725, 114.305).grid_id is None
    cell = type(city.cells[0]).objects.create(
        community=city.cells[0].community, code="G99", name="新网格",
        polygon={"type": "Polygon", "coordinates": [[[114.30, 22.72], [114.31, 22.72], [114.31, 22.73],
                                                     [114.30, 22.73], [114.30, 22.72]]]},
    )
    assert locate(22.725, 114.305).grid_id == cell.id
