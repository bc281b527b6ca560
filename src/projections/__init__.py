"""berth.projections: pure event -> read-model logic, one module per projection."""

# Every projection the booking API's read models come from, by the name its
# position is tracked under in `projection_positions`.
PROJECTION_NAMES = ("availability", "bookings", "occupancy", "ledger", "catalogue")
