"""The notification service: a web inbox, e-mail and SMS for employers and county supervision mailboxes."""
