"""Configs in, result files out: YAML, validation, result folders, provenance, reports."""
