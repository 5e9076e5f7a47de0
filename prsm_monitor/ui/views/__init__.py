"""The live part of each page: ``render(collector, prefs)`` draws it from the collector's data."""
