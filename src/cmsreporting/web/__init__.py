"""The web interface: static pages served from the package, built on the public API only."""
