"""SpiffWorkflow behind the service: parsing, validation, sandboxed scripts, running workflows."""
