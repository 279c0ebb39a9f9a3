"""The browser cockpit (`make serve`): the run, its levers and changes, its twin, the map, charts and accounts."""
