"""The staff operations screen: server-rendered pages on the API's application and read models."""
