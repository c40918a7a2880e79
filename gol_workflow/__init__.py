"""gol-workflow: the BPMN workflow service for the GOL Percorso 4 "Lavoro e Inclusione" path."""

__version__ = "0.1.0"
