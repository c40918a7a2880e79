"""Other systems and other instances: IDOL, connectors, BPMN messages."""
