"""Deployment tooling (not shipped in the Lambda package)."""
