"""Extension singletons, bound to the app in :func:`app.create_app`."""

from flask_appbuilder import AppBuilder
from flask_appbuilder.models.sqla.base import SQLA
from flask_mail import Mail
from flask_migrate import Migrate

db = SQLA()
appbuilder = AppBuilder(update_perms=False)
migrate = Migrate()
mail = Mail()
