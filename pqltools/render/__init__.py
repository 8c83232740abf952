"""pqltools.render."""
