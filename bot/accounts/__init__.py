"""Accounts, users and technical account managers in a SQL database (SQLAlchemy 1.4, 2.0 style)."""
