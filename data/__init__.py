"""nanophi data: documents.py, tokenizer.py, prepare.py and loader.py; see data/README.md."""
