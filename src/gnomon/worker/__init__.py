"""``gnomon worker``: runs what is scheduled (monitors now; pipelines and policies later)
beside the metadata database, with leases so that several workers share the work."""
