"""Analysts' scenario files: reading, running and measuring coverage."""
