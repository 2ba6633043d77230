"""Extension singletons, bound to the app in :func:`app.create_app`."""

from flask_appbuilder.models.sqla.base import SQLA
from flask_mail import Mail
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

db = SQLA()
migrate = Migrate()
mail = Mail()
csrf = CSRFProtect()
