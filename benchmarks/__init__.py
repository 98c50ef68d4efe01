"""Benchmark of the pipeline at three sizes (issue 8): `python -m benchmarks.run --scale S|M|L`."""
