"""pqltools.analysis."""
