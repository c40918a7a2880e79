"""What administrators do: deploy, inspect, repair, migrate and batch instances."""
