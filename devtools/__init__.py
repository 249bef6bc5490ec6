"""Development and test tooling: never shipped, never imported by `bot`.

The process harness that starts Rakel's real processes (`processes`), throwaway
services (`postgres`, `scaled.services`), readiness polling (`readiness`), free
loopback ports (`ports`), the load generator (`load`) and the scaled profile on one
machine (`scaled`). The tests, the scripts and `make` import it from the checkout;
the product package (`bot`) stays free of it, see docs/architecture.md.
"""
