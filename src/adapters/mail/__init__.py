"""E-mail ingress I/O: partners, the inbox, processing, the outbox and the SMTP/IMAP inlets.

Parsing is pure and lives in `berth.domain.partner_mail`; the workers
(`berth.workers.mail`) run the inlets, the processing loop and the reply sender.
"""
