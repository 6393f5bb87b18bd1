"""Shared plumbing: errors, pagination, middleware, logging, throttles, health. No business rules."""
