"""What every service shares: settings, database, migrations, the message bus, identity, web."""
