"""The scaled profile on one machine: `python -m devtools.scaled up|down|status`.

Rakel as stateless replicas (2 Rasa servers, 2 action servers, web, workers) on a
throwaway PostgreSQL cluster and Redis, behind nginx — the same recipe a
municipality runs with deploy/docker-compose.yml, started here from Debian's
packages under var/scaled/ so it can be tested on this machine.
"""
