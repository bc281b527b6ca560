"""Marshmallow schemas for every body and query string the API reads, and its answers."""
