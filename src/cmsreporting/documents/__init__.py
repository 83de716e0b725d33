"""A Party's document library: files stored once by SHA-256, with versions and metadata."""
