"""The core: the collector (a conductor of collaborators), its tick thread, tick statistics,
the settings writes it takes, and the process-wide instance."""
