from services.registry.bootstrap import bootstrap
from shared.runtime import serve
from shared.settings import settings_for

if __name__ == "__main__":
    settings = settings_for("registry")
    serve(bootstrap(settings), settings)
