"""What notify knows and decides, free of Flask, psycopg, kombu, smtplib and Jinja."""
