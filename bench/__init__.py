"""Benchmarks of secureserver: how fast it encrypts, serves and stores, and in how much memory.

``python -m bench`` (``make bench``) runs everything and writes ``bench/results/``. The package
is split so that more servers and workloads can join later: :mod:`bench.server` knows how to
run a server under test, :mod:`bench.curl` how to move bytes, :mod:`bench.transfers` which
transfers to time, and :mod:`bench.report` how to show the numbers.
"""
