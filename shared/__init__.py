"""dropwire's common package: settings, logging, metrics, messages, the Celery app factory, errors.

Every service imports this package; no service imports another service.
"""

__version__ = "0.1.0"
