"""HTM sequence memory: spatial pooler, temporal memory, anomaly scores, NAB tooling."""
