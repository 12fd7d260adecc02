"""The ``ops`` blueprint every staff area module adds its pages to."""

from flask import Blueprint

blueprint = Blueprint("ops", __name__, url_prefix="/ops")
