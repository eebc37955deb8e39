"""Geography: offline geocoding of lead locations to centroids, distances, radius search and market analysis
(docs/geo.md)."""
