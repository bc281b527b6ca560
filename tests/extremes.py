"""The extreme values every inlet accepts, in one place, for the projection property test.

The limits come from `berth.domain.bounds`, the one place every inlet and the
domain take them from; the longest texts are the HTTP schemas' and the
plate-read payload's. A sum of money on one booking (total, paid, refunded, an overstay
charge) stays within MAX_MONEY, as the domain is to refuse sums that overflow.
"""

from __future__ import annotations

from berth.domain import bounds, pool, stay

MAX_MONEY = bounds.MAX_MONEY  # minor units
MAX_QUANTITY = bounds.MAX_QUANTITY  # units on one booking
MAX_CAPACITY = bounds.MAX_CAPACITY  # units of a pool on one night
MAX_TAX_RATE_BP = pool.MAX_TAX_RATE_BP
MAX_NIGHTS = stay.MAX_NIGHTS
FIRST_DATE = bounds.FIRST_DATE  # the supported range of dates of stay and business days
LAST_DATE = bounds.LAST_DATE
TIME_ZONES = ("UTC", "Pacific/Kiritimati", "Etc/GMT+12", "Asia/Kathmandu")  # +14, -12, +5:45

# Longest texts, in characters (the HTTP schemas' and plate-read payload's limits).
FACILITY_NAME = 200
POOL_NAME = 200
GATE_NAME = 100
CAMERA_ID = 100
GUEST_NAME = 200  # given and family name each
EMAIL = 254
PHONE = 40
PLATE = 16
PLATES = 10
REASON = 500
PAYMENT_METHOD = 40
PAYMENT_ID = 100
REFUND_ID = 100
READ_ID = 200
IMAGE_REF = 500
MAX_GRACE_MINUTES = 7 * 24 * 60
MAX_PASSAGE_SECONDS = 3600
