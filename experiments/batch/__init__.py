"""The batch engine: designs and seeds, one run, pools of workers (local or Dask), the result store, the sweep engine and its chance table."""
