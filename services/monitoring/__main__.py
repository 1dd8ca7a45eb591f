import sys

from services.monitoring.bootstrap import bootstrap
from shared.rules_in_force import RuleDataError
from shared.runtime import serve
from shared.settings import settings_for

if __name__ == "__main__":
    settings = settings_for("monitoring")
    try:
        app = bootstrap(settings)
    except RuleDataError as error:  # a bad limits file
        sys.exit(f"monitoring will not start: {error}")
    serve(app, settings)
