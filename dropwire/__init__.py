"""The ``dropwire`` command line: the composition root that wires the services together.

Services never import each other; this package is the one place that may import all of them.
"""
