"""Activities about the app itself rather than a message: installed, removed (``installation.py``)."""
