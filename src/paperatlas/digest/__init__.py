"""Email digests: double opt-in subscriptions, per-subscriber digests, exactly-once SMTP delivery.

Modules, in the order data flows: ``config`` (SMTP URL, sender, public URL, secret), ``tokens`` (signed links),
``subscriptions`` (subscribers, follows, rate limits), ``build`` (what a digest holds), ``render`` and ``message``
(Jinja2 text + HTML into a MIME message), ``smtp`` (delivery with retries), ``sender`` (the send ledger), ``web``
(the FastAPI router the web app includes), ``sample`` (real Atom entries into a store, for tests and the bench).
"""
