"""The browser view: Mesa's SolaraViz with a map, charts and the city accounts (`make serve`)."""
