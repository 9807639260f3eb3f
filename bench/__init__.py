"""Benchmark harness (`make bench`). Scenarios report ratios against a baseline measured in
the same run, because these machines are shared and noisy."""
