from services.penalty.bootstrap import bootstrap
from shared.runtime import serve
from shared.settings import settings_for

if __name__ == "__main__":
    settings = settings_for("penalty")
    serve(bootstrap(settings), settings)
