"""Code both sides speak: the reading contract, the batch wire format and request signing.

Nothing here imports ``agent`` or ``ingest``; both of them import this.
"""
