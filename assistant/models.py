"""Models of assistant."""
