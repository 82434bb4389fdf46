"""Independent pure-Python/NumPy reference implementation of seedstream, written from
docs/spec.md only (see seedstream_ref.py)."""
