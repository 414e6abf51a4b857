"""Models of the skills domain (filled by the issue that builds this domain)."""
