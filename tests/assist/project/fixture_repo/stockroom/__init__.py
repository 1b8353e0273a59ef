"""stockroom: a small inventory service for a shop's back room."""

__version__ = "1.4.0"
