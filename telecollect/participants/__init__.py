from flask import Blueprint

bp = Blueprint("participants", __name__)
