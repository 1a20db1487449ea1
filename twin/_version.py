"""The version of alutwin: written here only (pyproject.toml reads it; results files and checkpoints carry it)."""
__version__ = "0.2.0"
