"""Remote engines: ComfyUI servers run our jobs (Qt-free client, engine and job farm)."""
