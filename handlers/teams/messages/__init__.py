"""``message`` activities: typed text (``text.py``) and, from clients without Universal Actions, a card's
``Action.Submit`` (``card_submit.py``)."""
