"""Geography: distances, grid-cell lookup, spatial indexes, geofences."""
