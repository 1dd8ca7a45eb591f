from services.assessment.bootstrap import bootstrap
from shared.runtime import serve
from shared.settings import settings_for

if __name__ == "__main__":
    settings = settings_for("assessment")
    serve(bootstrap(settings), settings)
