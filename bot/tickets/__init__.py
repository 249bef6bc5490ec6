"""Service-desk tickets: storage (repository), conversation transcripts, labels."""
