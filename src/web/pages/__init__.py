"""The screen's pages, one module per part of the day: sign-in, today, bookings, gates, audit."""
