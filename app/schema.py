"""Imports every model so that Alembic and FAB see the whole schema."""

from flask_appbuilder import Model
from flask_appbuilder.security.sqla import models as security_models  # noqa: F401

from app.audit.models import AuditEntry  # noqa: F401
from app.changes.models import AppointmentChange, ChangeNotice  # noqa: F401
from app.digests.models import DigestRun  # noqa: F401
from app.models.crm import Company, Contact, Location, Note, Task, Territory  # noqa: F401
from app.models.planning import (  # noqa: F401
    Application,
    Appointment,
    Booking,
    ChangeRequest,
    Job,
    Project,
)
from app.models.promoter import Promoter, Unavailability  # noqa: F401
from app.models.report_schedules import ReportSchedule  # noqa: F401
from app.models.reporting import (  # noqa: F401
    Question,
    Questionnaire,
    QuestionnairePage,
    QuestionnaireVersion,
    Report,
    ReportAnswer,
    ReportFile,
    ReportReminder,
)
from app.outbox.models import OutboxAttachment, OutboxMessage  # noqa: F401
from app.portal.models import WizardDraft  # noqa: F401
from app.security.models import AccountToken, LoginState  # noqa: F401
from app.transfer.models import ExportJob, ImportJob, ImportWrittenRow  # noqa: F401

metadata = Model.metadata
