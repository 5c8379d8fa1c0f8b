"""The Celery app for Celery's own tools: ``celery -A dropwire.celery inspect|events|flower|purge``.

    celery -A dropwire.celery inspect ping        # which enrich workers answer, by node name
    celery -A dropwire.celery inspect active      # what each is working on
    celery -A dropwire.celery events              # live task view (needs DROPWIRE_TASK_EVENTS=true)
    celery -A dropwire.celery flower              # Flower, if installed (see docs/how-to/celery-tools.md)

It reads the broker from ``DROPWIRE_BROKER_URL`` (and ``DROPWIRE_BROKER_PASSWORD``) like every
service, and knows the task names and queues. It is not how the enrich worker is run: ``dropwire
enrich`` adds the metrics endpoint and loads the NER model before forking. Only the enrich worker is
a Celery worker; store and ingest's ``ingest.done`` consumer read their queues directly, so Celery's
tools see the ``store`` and ``ingest.done`` queues' depth but not those consumers.
"""

from __future__ import annotations

from shared.celery_app import create_app
from shared.settings import BrokerSettings

app = create_app("dropwire", BrokerSettings().url())
