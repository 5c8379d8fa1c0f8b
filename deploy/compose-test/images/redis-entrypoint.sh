#!/bin/sh
# As the official image: protected mode off (its build turns the default off), since Redis is reached
# from the other containers, over the compose network only. docker-compose.yml's command stays as is.
set -eu
if [ "${1:-}" = redis-server ]; then
  shift
  set -- redis-server "$@" --protected-mode no
fi
exec "$@"
