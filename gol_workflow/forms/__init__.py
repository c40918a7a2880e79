"""JSON Schema forms: catalogue, server-side validation with Italian messages, input coercion."""
