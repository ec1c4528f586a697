"""sdd: run a spec-kit feature to completion, one verified, resumable commit per task."""

__version__ = "0.1.0"
