"""Administration endpoints above every domain package (the audit trail)."""
