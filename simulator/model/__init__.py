"""The system model: delay laws, the cluster, closed forms. Knows nothing of the codes."""
