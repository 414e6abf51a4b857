"""Models of the agents domain (filled by the issue that builds this domain)."""
