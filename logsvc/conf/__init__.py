"""The option groups that both daemons share, one leaf module per group.

``[storage]`` and ``[swift]`` (storage.py, swift.py), ``[status]``
(status.py, with each daemon's default port), ``[profiler]`` (profiler.py)
and ``[oslo_reports]`` (oslo_reports.py). Each imports only oslo.config and
what its options need; the daemons' own lists (api/conf, guestagent/conf)
gather them, and code that reads an option never imports these modules.
"""
