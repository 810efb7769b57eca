"""The model manager: catalog, downloads, the models folder. No Qt."""
