"""Developer and benchmark tooling: scale data generation (``cbt dev seed-scale``)."""
