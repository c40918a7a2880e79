"""The person's case: its record, list, file, start, closure, monitorings and documents."""
