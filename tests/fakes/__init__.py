"""Fake external services (HTTP servers the real SDKs talk to)."""
