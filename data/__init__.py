"""nanophi data: tokenizers (tokenizer.py), corpus preparation (prepare.py) and the training loader (loader.py)."""
