"""Staff of the operations screen: accounts with argon2 password hashes, and their sessions."""
