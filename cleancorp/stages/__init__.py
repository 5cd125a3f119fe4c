"""Built-in stages, one module each. Importing this package registers them by name."""
from . import decode, repair, convert, normalize, boilerplate, dedup  # noqa: F401

__all__ = ["decode", "repair", "convert", "normalize", "boilerplate", "dedup"]
