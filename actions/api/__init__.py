"""Clients of the services the actions talk to, one module per service."""
