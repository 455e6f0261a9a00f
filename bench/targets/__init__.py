"""The servers the benchmark can run, one module each: how to launch it and how to talk to it.

Each module offers ``prepare(workdir) -> ServerSpec`` and an API object with the URLs of its
upload and download endpoints, so that :mod:`bench.transfers` can drive any of them alike.
"""
