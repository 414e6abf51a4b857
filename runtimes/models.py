"""Models of the runtimes domain (filled by the issue that builds this domain)."""
