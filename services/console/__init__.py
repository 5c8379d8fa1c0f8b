"""The operator console: a web page over the spool and the stored documents (``dropwire console``)."""
