"""Configuration files: bench configs, meter types, meter lists, plans; all fail as ConfigError."""

from meterbench.config.errors import ConfigError, ConfigIssue, FieldProblem

__all__ = ["ConfigError", "ConfigIssue", "FieldProblem"]
