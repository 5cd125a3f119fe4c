"""Engines that run `cleancorp corpus`: ``local`` (worker processes of this machine, in
:mod:`cleancorp.corpus`) and ``dask`` (tasks of a Dask cluster, :mod:`cleancorp.engines.dask_engine`).

Every engine gives the same OUT tree for the same IN and options.

>>> ENGINES
('local', 'dask')
"""
from __future__ import annotations

ENGINES = ("local", "dask")
