"""Login, server-side sessions and the page guard of the console."""
