"""Tools for developing logsvc, run from the checkout: a local Swift and Keystone.

Used by the tests, the benchmarks and ``start.sh --swift``; not installed, and
not in the wheel (a deployment runs none of it).
"""
