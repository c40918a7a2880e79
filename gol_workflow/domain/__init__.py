"""Plain data and errors shared by every layer; imports nothing of the project."""
