"""How the services run: the one command line (cli), every service in one process (allinone, with an
embedded PostgreSQL: embedded), one service per process as containers run it (standalone, containers),
background workers as threads (background), and the list of services this repository ships (registry)."""
