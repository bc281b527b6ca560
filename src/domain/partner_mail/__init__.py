"""Partner mail, the pure part: reading a partner's booking e-mail into booking requests.

No I/O here: `message` splits a raw message into what the formats read, `formats`
holds a partner's format (configuration, not code), `key_value`, `csv_rows` and
`calendar` turn text into `requests.BookingRequest`s (or a problem per item), and
`replies` writes the answer. The adapters (`berth.adapters.mail`) receive, store,
run and send.
"""
