"""kubectl-arch: run containers on clusters whose CPU architectures differ."""

__version__ = "0.1.0"
