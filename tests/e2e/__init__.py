"""Browser tests of the web interface."""
