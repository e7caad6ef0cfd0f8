"""The maintainer's tools: stubs, mutants, the README map, benchmarks."""
