import sys

from services.notification.adapters.channels import ChannelConfigError
from services.notification.bootstrap import bootstrap
from shared.rules_in_force import RuleDataError
from shared.runtime import serve
from shared.settings import settings_for

if __name__ == "__main__":
    settings = settings_for("notification")
    try:
        app = bootstrap(settings)
    except (ChannelConfigError, RuleDataError) as error:  # a bad OHS_SMTP_URL, OHS_SMS_ADAPTER or template file
        sys.exit(f"notification will not start: {error}")
    serve(app, settings)
