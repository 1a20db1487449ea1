"""Benchmarks time only the solve; set-up (config, steady state) happens outside the timed part."""
