"""The extreme values every inlet accepts, in one place, for the projection property test.

Until the bounds module (`berth.domain` bounds, being written alongside) lands,
these are this test's own statement of the accepted limits; when it does, point
each name at the module's constant. Where the domain already has a constant it
is used. A sum of money on one booking (total, paid, refunded, an overstay
charge) stays within MAX_MONEY, as the domain is to refuse sums that overflow.
"""

from __future__ import annotations

from datetime import date

from berth.domain import booking, pool, stay

MAX_MONEY = 2**53 - 1  # minor units: also exact in every JSON client's numbers
MAX_QUANTITY = booking.MAX_QUANTITY  # units on one booking
MAX_CAPACITY = pool.MAX_CAPACITY  # units of a pool on one night
MAX_TAX_RATE_BP = pool.MAX_TAX_RATE_BP
MAX_NIGHTS = stay.MAX_NIGHTS
FIRST_DATE = date(2000, 1, 1)  # the supported range of dates of stay and business days
LAST_DATE = date(2199, 12, 31)
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
