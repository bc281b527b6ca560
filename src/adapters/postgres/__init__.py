"""The PostgreSQL base every other adapter family stands on: connections, roles, migrations, the event store and its locks."""
