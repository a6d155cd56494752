"""The phi claims at small scale: python -m experiments NAME (see experiments/__main__.py and README.md)."""
