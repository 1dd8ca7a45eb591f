from services.console.bootstrap import bootstrap
from shared.runtime import serve
from shared.settings import settings_for

if __name__ == "__main__":
    settings = settings_for("console")
    serve(bootstrap(settings), settings)
