"""The throughput benchmark: `make bench` (``python -m bench.run``)."""
