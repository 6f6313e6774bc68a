"""The Ray Serve layer: the gateway, the model and task deployments, the vivo proxies and the
app builder."""
