"""Models of billing."""
