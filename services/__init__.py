"""Mall complaint handling: the services and what they share (see README.md)."""

import os as _os

# prometheus_client turns on its multiprocess mode when PROMETHEUS_MULTIPROC_DIR merely exists,
# and decides it when it is first imported, which any module of this package may do. An empty value
# (a blank line in deploy/.env) means "not set" here, as for every other setting: without this,
# each process would write its metric files into its current directory.
for _variable in ("PROMETHEUS_MULTIPROC_DIR", "prometheus_multiproc_dir"):
    if _os.environ.get(_variable) == "":
        del _os.environ[_variable]
