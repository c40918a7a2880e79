"""Running instances: the runtime, stepping, tasks, timers and due work."""
