"""Models of the issues domain (filled by the issue that builds this domain)."""
