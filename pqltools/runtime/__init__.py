"""pqltools.runtime."""
