"""enrich: splits a page into articles, reads datelines and times, finds named entities."""
