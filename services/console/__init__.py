"""The staff console: login, the desk's intake form, task queues, case pages with the diagram,
the process editor and user administration, server-rendered, calling the services' HTTP APIs."""
