"""Reading and editing Kubernetes manifests as text: files and streams in, where each
document and workload lies, nodes with positions, and splices that change only what a plan
says (see DESIGN.md)."""
