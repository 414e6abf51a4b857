"""Models of the usage domain (filled by the issue that builds this domain)."""
