"""Errors the persistence layer raises whatever the database."""

from __future__ import annotations


class DuplicateRow(Exception):
    """A write collided with a row that already exists."""
