"""Use cases: functions taking a Runtime and an Actor."""
