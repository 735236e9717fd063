"""warehouse-bench: the same SQL workloads on several warehouses; time, cost and answers."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("warehouse-bench")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
