"""Scale-out: workers consuming the Redis Streams bus, roles of the service, operations."""
