"""Indicators, waiting times and capacity of the service: aggregates only, never a person's data."""
