"""The dispatch domain: models, the case workflow, rules, geo, sensors, timers and the daemon."""
