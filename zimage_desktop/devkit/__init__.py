"""Tools to build tiny random Z-Image models offline (tests, self-test, benchmarks).

The models use the real diffusers/transformers classes and real file formats, only with tiny
dimensions, so every code path of the loader runs without downloading anything.
"""
