"""The cluster side: reading a cluster through the API server (kubeconfig, paging) and the
pure records made of what it returns (nodes, per-platform inventory, quantities)."""
