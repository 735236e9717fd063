"""warehouse-bench: the same SQL workloads on several warehouses; time, cost and answers."""

# The one place the version is written; pyproject.toml reads it from here.
__version__ = "0.1.0"
