"""Model registry: registered models, numbered versions, aliases and their history."""
