"""Benchmarks of secureserver next to its peers: throughput, memory and CPU, in one run.

``python -m bench`` (``make bench``) installs the peers, measures the machine's raw limits,
starts every server and runs the workloads round after round, then writes JSON, Markdown and
PNG plots to ``bench/results/`` (see docs/BENCHMARKS.md). ``python -m bench.profile`` says
where our server's time goes per GiB. The package is split by job:

- :mod:`bench.targets`: one module per server (ours, copyparty, uploadserver, nginx, and a
  bare Python TLS stream): how to start it and which requests upload, download and delete;
- :mod:`bench.peers`: installing the peers (throwaway virtualenvs, Debian's nginx);
- :mod:`bench.server`, :mod:`bench.procs`, :mod:`bench.memory`: running a server, and its
  processes' CPU time and memory;
- :mod:`bench.curl`: the clients (curl processes, one per simulated user);
- :mod:`bench.workloads`: the shapes of the issue and one timed measurement;
- :mod:`bench.limits`, :mod:`bench.crypto`: openssl, SHA-256, disk, and our cipher service;
- :mod:`bench.report`, :mod:`bench.plots`, :mod:`bench.stats`: medians, ratios, targets,
  tables and plots.
"""
