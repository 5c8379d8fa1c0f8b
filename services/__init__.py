"""dropwire's three services. Each imports ``shared``, never another service."""
