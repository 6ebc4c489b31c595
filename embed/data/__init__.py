"""Data files shipped with ``embed`` (see README.md here)."""
