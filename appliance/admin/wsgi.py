"""gunicorn entry point: ``gunicorn appliance.admin.wsgi:app`` (config from APPLIANCE_CONFIG)."""

from ..config import load
from . import create_app

app = create_app(load())
