"""Small utilities shared by every layer: bounded text files, compiled kernels."""
