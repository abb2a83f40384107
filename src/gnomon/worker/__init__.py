"""``gnomon worker``: runs what is scheduled (monitors and pipeline schedules; policies
later) beside the metadata database, with leases and claimed ticks so that several workers
share the work. The API server runs monitors too, never pipelines: they are user code."""
