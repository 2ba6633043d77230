"""Agency screens: the questionnaires, their editor (pages, questions, groups), publishing,
the version history and a read-only preview of each version.

Every change goes through :mod:`app.reporting.definitions`, which edits the working
version (a new version once reports use the newest one).
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import BooleanField, SelectField, StringField, TextAreaField

from app.common.choices import QUESTION_KINDS, QUESTIONNAIRE_KINDS, label
from app.common.formatting import current_language
from app.common.forms import TranslatedForm
from app.extensions import db
from app.models.reporting import Question, Questionnaire, QuestionnairePage, QuestionnaireVersion
from app.reporting import definitions
from app.reporting.definitions import DefinitionError, QuestionData


class CsrfForm(TranslatedForm):
    """The buttons' forms (move, delete, publish): nothing but the CSRF token."""


class QuestionnaireForm(TranslatedForm):
    name = StringField(_l("Name"))
    kind = SelectField(_l("Kind of report"), choices=list(QUESTIONNAIRE_KINDS.items()))
    description = TextAreaField(_l("Description"))


class RenameForm(TranslatedForm):
    name = StringField(_l("Name"))
    description = TextAreaField(_l("Description"))


class PageForm(TranslatedForm):
    title_de = StringField(_l("Title (German)"))
    title_en = StringField(_l("Title (English)"))


class QuestionForm(TranslatedForm):
    kind = SelectField(_l("Kind of question"), choices=list(QUESTION_KINDS.items()))
    # checked by the definitions (a group of this page), so a forged value gets their message
    parent = SelectField(_l("Repeating group"), choices=[], validate_choice=False)
    label_de = StringField(_l("Question (German)"))
    label_en = StringField(_l("Question (English)"))
    key = StringField(
        _l("Key"),
        description=_l(
            "Answers are stored and summed by this key across versions: a–z, 0–9 and _. "
            "Left empty, it is made from the German question."
        ),
    )
    help_de = TextAreaField(_l("Help (German)"))
    help_en = TextAreaField(_l("Help (English)"))
    required = BooleanField(_l("Answer required"))
    unit = StringField(_l("Unit"), description=_l("Numbers only, e.g. pcs or €."))
    min_value = StringField(_l("Smallest value"), description=_l("Numbers only."))
    max_value = StringField(_l("Largest value"), description=_l("Numbers only."))
    min_count = StringField(
        _l("At least (items)"), description=_l("Photos, files and groups: how many photos, files or rows.")
    )
    max_count = StringField(_l("At most (items)"), description=_l("Photos: at most 20."))
    choices = TextAreaField(
        _l("Choices"),
        description=_l(
            'Choice questions: one choice a line, "code | German | English", e.g. "yes | Ja | Yes".'
        ),
    )


def _show_error(form, error: DefinitionError) -> None:
    """The refusal at its field, or above the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, str(error)]
    else:
        form.form_errors = [*getattr(form, "form_errors", []), str(error)]


def _question_data(form: QuestionForm) -> QuestionData:
    """The form's values; numbers parsed (a DefinitionError names the field)."""
    return QuestionData(
        kind=form.kind.data or "",
        label_de=form.label_de.data or "",
        key=form.key.data or "",
        label_en=form.label_en.data,
        help_de=form.help_de.data,
        help_en=form.help_en.data,
        required=bool(form.required.data),
        unit=form.unit.data,
        min_value=definitions.parse_number(form.min_value.data, "min_value"),
        max_value=definitions.parse_number(form.max_value.data, "max_value"),
        min_count=definitions.parse_count(form.min_count.data, "min_count"),
        max_count=definitions.parse_count(form.max_count.data, "max_count"),
        choices=form.choices.data,
        parent_key=form.parent.data or None,
    )


def _number_text(value: float | None) -> str:
    if value is None:
        return ""
    text = f"{value:.6f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return text.replace(".", ",") if current_language() == "de" else text


class QuestionnairesView(BaseView):
    route_base = "/questionnaires"
    default_view = "list"

    # ---- helpers

    def _questionnaire(self, questionnaire_id: int) -> Questionnaire:
        questionnaire = db.session.get(Questionnaire, questionnaire_id)
        if questionnaire is None:
            abort(404)
        return questionnaire

    def _editor_url(self, questionnaire: Questionnaire, anchor: str | None = None) -> str:
        url = url_for("QuestionnairesView.editor", questionnaire_id=questionnaire.id)
        return f"{url}#{anchor}" if anchor else url

    def _shown(self, questionnaire: Questionnaire) -> QuestionnaireVersion:
        version = definitions.newest_version(db.session, questionnaire)
        if version is None:  # a questionnaire made outside the editor
            version = definitions.working_version(db.session, questionnaire)
            db.session.commit()
        return version

    def _page_of_shown(self, questionnaire: Questionnaire, page_id: int) -> QuestionnairePage:
        page = db.session.get(QuestionnairePage, page_id)
        if page is None or page.version_id != self._shown(questionnaire).id:
            abort(404)
        return page

    def _question_of_shown(self, questionnaire: Questionnaire, question_id: int) -> Question:
        question = db.session.get(Question, question_id)
        if question is None or question.version_id != self._shown(questionnaire).id:
            abort(404)
        return question

    def _change(self, questionnaire: Questionnaire, change, done: str, anchor: str | None = None):
        """Run a button's change (CSRF checked), commit, flash and go back to the editor."""
        if not CsrfForm().validate_on_submit():
            flash(_("The form has expired; please try again."), "warning")
            return redirect(self._editor_url(questionnaire))
        creates_version = definitions.editing_creates_version(db.session, questionnaire)
        try:
            change()
        except DefinitionError as error:
            db.session.rollback()
            flash(str(error), "warning")
            return redirect(self._editor_url(questionnaire, anchor))
        db.session.commit()
        flash(done, "success")
        if creates_version:
            self._flash_new_version(questionnaire)
        return redirect(self._editor_url(questionnaire, anchor))

    def _flash_new_version(self, questionnaire: Questionnaire) -> None:
        version = definitions.newest_version(db.session, questionnaire)
        flash(
            _(
                "Reports use the previous version, so the change was made in a new version %(number)d "
                "(not yet published).",
                number=version.number,
            ),
            "info",
        )

    # ---- the list

    @expose("/", methods=["GET"])
    @has_access
    def list(self):
        return self._render_list(QuestionnaireForm(formdata=None))

    def _render_list(self, form: QuestionnaireForm):
        questionnaires = db.session.scalars(select(Questionnaire).order_by(Questionnaire.name)).all()
        counts = definitions.report_counts(db.session)
        rows = []
        for questionnaire in questionnaires:
            versions = questionnaire.versions
            current = next((v for v in reversed(versions) if v.published_at is not None), None)
            rows.append(
                {
                    "questionnaire": questionnaire,
                    "kind": label(QUESTIONNAIRE_KINDS, questionnaire.kind),
                    "current": current,
                    "newest": versions[-1] if versions else None,
                    "reports": sum(counts.get(v.id, 0) for v in versions),
                }
            )
        return self.render_template("reporting/questionnaires.html", rows=rows, form=form)

    @expose("/add", methods=["POST"])
    @has_access
    def add(self):
        form = QuestionnaireForm()
        if not form.validate_on_submit():
            return self._render_list(form)
        try:
            questionnaire = definitions.create_questionnaire(
                db.session, form.name.data or "", form.kind.data, form.description.data
            )
        except DefinitionError as error:
            db.session.rollback()
            _show_error(form, error)
            return self._render_list(form)
        db.session.commit()
        flash(_('The questionnaire "%(name)s" was created.', name=questionnaire.name), "success")
        return redirect(self._editor_url(questionnaire))

    # ---- the editor

    @expose("/<int:questionnaire_id>/", methods=["GET"])
    @has_access
    def editor(self, questionnaire_id: int):
        questionnaire = self._questionnaire(questionnaire_id)
        rename = RenameForm(formdata=None, obj=questionnaire)
        return self._render_editor(questionnaire, rename_form=rename, page_form=PageForm(formdata=None))

    def _render_editor(self, questionnaire: Questionnaire, rename_form, page_form):
        version = self._shown(questionnaire)
        counts = definitions.report_counts(db.session, [questionnaire.id])
        return self.render_template(
            "reporting/questionnaire_editor.html",
            questionnaire=questionnaire,
            kind=label(QUESTIONNAIRE_KINDS, questionnaire.kind),
            version=version,
            pages=self._outline(version),
            creates_version=counts.get(version.id, 0) > 0,
            history=[(v, counts.get(v.id, 0)) for v in reversed(questionnaire.versions)],
            rename_form=rename_form,
            page_form=page_form,
            button_form=CsrfForm(formdata=None),
            kinds=QUESTION_KINDS,
            language=current_language(),
        )

    def _outline(self, version: QuestionnaireVersion) -> list[tuple[QuestionnairePage, list]]:
        """Pages with their questions, each (question, its sub-questions)."""
        questions = version.questions
        outline = []
        for page in version.pages:
            top = [q for q in questions if q.page_id == page.id and q.parent_id is None]
            outline.append(
                (page, [(q, [c for c in questions if c.parent_id == q.id]) for q in top]),
            )
        return outline

    @expose("/<int:questionnaire_id>/rename", methods=["POST"])
    @has_access
    def rename(self, questionnaire_id: int):
        questionnaire = self._questionnaire(questionnaire_id)
        form = RenameForm()
        if form.validate_on_submit():
            try:
                definitions.update_questionnaire(
                    db.session, questionnaire, form.name.data, form.description.data
                )
            except DefinitionError as error:
                db.session.rollback()
                _show_error(form, error)
            else:
                db.session.commit()
                flash(_("The questionnaire was saved."), "success")
                return redirect(self._editor_url(questionnaire))
        return self._render_editor(questionnaire, rename_form=form, page_form=PageForm(formdata=None))

    @expose("/<int:questionnaire_id>/pages/add", methods=["POST"])
    @has_access
    def add_page(self, questionnaire_id: int):
        questionnaire = self._questionnaire(questionnaire_id)
        form = PageForm()
        if form.validate_on_submit():
            creates_version = definitions.editing_creates_version(db.session, questionnaire)
            try:
                definitions.add_page(db.session, questionnaire, form.title_de.data, form.title_en.data)
            except DefinitionError as error:
                db.session.rollback()
                _show_error(form, error)
            else:
                db.session.commit()
                flash(_("The page was added."), "success")
                if creates_version:
                    self._flash_new_version(questionnaire)
                return redirect(self._editor_url(questionnaire))
        rename = RenameForm(formdata=None, obj=questionnaire)
        return self._render_editor(questionnaire, rename_form=rename, page_form=form)

    @expose("/<int:questionnaire_id>/pages/<int:page_id>/edit", methods=["GET", "POST"])
    @has_access
    def edit_page(self, questionnaire_id: int, page_id: int):
        questionnaire = self._questionnaire(questionnaire_id)
        page = self._page_of_shown(questionnaire, page_id)
        form = PageForm(obj=page) if request.method == "GET" else PageForm()
        if request.method == "POST" and form.validate_on_submit():
            creates_version = definitions.editing_creates_version(db.session, questionnaire)
            try:
                definitions.update_page(
                    db.session, questionnaire, page.id, form.title_de.data, form.title_en.data
                )
            except DefinitionError as error:
                db.session.rollback()
                _show_error(form, error)
            else:
                db.session.commit()
                flash(_("The page was saved."), "success")
                if creates_version:
                    self._flash_new_version(questionnaire)
                return redirect(self._editor_url(questionnaire))
        return self.render_template(
            "reporting/page_form.html",
            questionnaire=questionnaire,
            page=page,
            form=form,
            creates_version=definitions.editing_creates_version(db.session, questionnaire),
        )

    @expose("/<int:questionnaire_id>/pages/<int:page_id>/move", methods=["POST"])
    @has_access
    def move_page(self, questionnaire_id: int, page_id: int):
        questionnaire = self._questionnaire(questionnaire_id)
        direction = request.form.get("direction", "")
        return self._change(
            questionnaire,
            lambda: definitions.move_page(db.session, questionnaire, page_id, direction),
            _("The page was moved."),
        )

    @expose("/<int:questionnaire_id>/pages/<int:page_id>/delete", methods=["GET", "POST"])
    @has_access
    def delete_page(self, questionnaire_id: int, page_id: int):
        questionnaire = self._questionnaire(questionnaire_id)
        page = self._page_of_shown(questionnaire, page_id)
        if request.method == "GET":
            return self._confirm(
                questionnaire,
                _('Delete the page "%(page)s" with all its questions?', page=page.title_de),
                url_for("QuestionnairesView.delete_page", questionnaire_id=questionnaire.id, page_id=page.id),
                _("Delete page"),
                danger=True,
            )
        return self._change(
            questionnaire,
            lambda: definitions.delete_page(db.session, questionnaire, page_id),
            _("The page was deleted."),
        )

    def _confirm(self, questionnaire, question: str, action: str, button: str, danger: bool = False):
        return self.render_template(
            "reporting/confirm.html",
            questionnaire=questionnaire,
            question=question,
            action=action,
            button=button,
            danger=danger,
            form=CsrfForm(formdata=None),
            creates_version=definitions.editing_creates_version(db.session, questionnaire),
        )

    # ---- questions

    def _question_form(self, questionnaire: Questionnaire, page: QuestionnairePage, question=None, **kwargs):
        form = QuestionForm(**kwargs)
        form.kind.choices = [(code, str(text)) for code, text in QUESTION_KINDS.items()]
        groups = [
            q
            for q in self._shown(questionnaire).questions
            if q.kind == "group" and q.page_id == page.id and q is not question
        ]
        form.parent.choices = [("", _("– none (a question of the page) –"))] + [
            (group.key, group.label_de) for group in groups
        ]
        return form

    def _render_question(self, questionnaire, page, form, question=None):
        return self.render_template(
            "reporting/question_form.html",
            questionnaire=questionnaire,
            page=page,
            question=question,
            form=form,
            creates_version=definitions.editing_creates_version(db.session, questionnaire),
        )

    @expose("/<int:questionnaire_id>/pages/<int:page_id>/questions/add", methods=["GET", "POST"])
    @has_access
    def add_question(self, questionnaire_id: int, page_id: int):
        questionnaire = self._questionnaire(questionnaire_id)
        page = self._page_of_shown(questionnaire, page_id)
        if request.method == "GET":
            form = self._question_form(questionnaire, page, formdata=None)
            form.parent.data = request.args.get("group", "")
            return self._render_question(questionnaire, page, form)
        form = self._question_form(questionnaire, page)
        if form.validate_on_submit():
            creates_version = definitions.editing_creates_version(db.session, questionnaire)
            try:
                definitions.add_question(db.session, questionnaire, page.id, _question_data(form))
            except DefinitionError as error:
                db.session.rollback()
                _show_error(form, error)
            else:
                db.session.commit()
                flash(_("The question was added."), "success")
                if creates_version:
                    self._flash_new_version(questionnaire)
                return redirect(self._editor_url(questionnaire))
        return self._render_question(questionnaire, page, form)

    @expose("/<int:questionnaire_id>/questions/<int:question_id>/edit", methods=["GET", "POST"])
    @has_access
    def edit_question(self, questionnaire_id: int, question_id: int):
        questionnaire = self._questionnaire(questionnaire_id)
        question = self._question_of_shown(questionnaire, question_id)
        page = question.page
        if request.method == "GET":
            form = self._question_form(questionnaire, page, question, formdata=None, obj=question)
            form.parent.data = question.parent.key if question.parent else ""
            for name in ("min_value", "max_value"):
                getattr(form, name).data = _number_text(getattr(question, name))
            for name in ("min_count", "max_count"):
                value = getattr(question, name)
                getattr(form, name).data = "" if value is None else str(value)
            return self._render_question(questionnaire, page, form, question)
        form = self._question_form(questionnaire, page, question)
        if form.validate_on_submit():
            creates_version = definitions.editing_creates_version(db.session, questionnaire)
            try:
                definitions.update_question(db.session, questionnaire, question.id, _question_data(form))
            except DefinitionError as error:
                db.session.rollback()
                _show_error(form, error)
            else:
                db.session.commit()
                flash(_("The question was saved."), "success")
                if creates_version:
                    self._flash_new_version(questionnaire)
                return redirect(self._editor_url(questionnaire))
        return self._render_question(questionnaire, page, form, question)

    @expose("/<int:questionnaire_id>/questions/<int:question_id>/move", methods=["POST"])
    @has_access
    def move_question(self, questionnaire_id: int, question_id: int):
        questionnaire = self._questionnaire(questionnaire_id)
        direction = request.form.get("direction", "")
        return self._change(
            questionnaire,
            lambda: definitions.move_question(db.session, questionnaire, question_id, direction),
            _("The question was moved."),
        )

    @expose("/<int:questionnaire_id>/questions/<int:question_id>/delete", methods=["GET", "POST"])
    @has_access
    def delete_question(self, questionnaire_id: int, question_id: int):
        questionnaire = self._questionnaire(questionnaire_id)
        question = self._question_of_shown(questionnaire, question_id)
        if request.method == "GET":
            text = (
                _('Delete the group "%(question)s" with its sub-questions?', question=question.label_de)
                if question.kind == "group"
                else _('Delete the question "%(question)s"?', question=question.label_de)
            )
            return self._confirm(
                questionnaire,
                text,
                url_for(
                    "QuestionnairesView.delete_question",
                    questionnaire_id=questionnaire.id,
                    question_id=question.id,
                ),
                _("Delete question"),
                danger=True,
            )
        return self._change(
            questionnaire,
            lambda: definitions.delete_question(db.session, questionnaire, question_id),
            _("The question was deleted."),
        )

    # ---- publishing, versions

    @expose("/<int:questionnaire_id>/publish", methods=["GET", "POST"])
    @has_access
    def publish(self, questionnaire_id: int):
        questionnaire = self._questionnaire(questionnaire_id)
        version = self._shown(questionnaire)
        if request.method == "GET":
            return self._confirm(
                questionnaire,
                _(
                    "Publish version %(number)d? New reports are then filled in with it; "
                    "reports already started keep their version.",
                    number=version.number,
                ),
                url_for("QuestionnairesView.publish", questionnaire_id=questionnaire.id),
                _("Publish"),
            )
        return self._change(
            questionnaire,
            lambda: definitions.publish(db.session, questionnaire),
            _("Version %(number)d is published.", number=version.number),
        )

    @expose("/<int:questionnaire_id>/versions/<int:version_id>", methods=["GET"])
    @has_access
    def preview(self, questionnaire_id: int, version_id: int):
        questionnaire = self._questionnaire(questionnaire_id)
        version = db.session.get(QuestionnaireVersion, version_id)
        if version is None or version.questionnaire_id != questionnaire.id:
            abort(404)
        language = current_language()
        return self.render_template(
            "reporting/questionnaire_preview.html",
            questionnaire=questionnaire,
            version=version,
            pages=self._outline(version),
            language=language,
            kinds=QUESTION_KINDS,
            question_label=lambda q: definitions.question_label(q, language),
            help_text=lambda q: definitions.help_text(q, language),
            page_title=lambda p: definitions.page_title(p, language),
            choices=lambda q: _safe_choices(q, language),
            number_text=_number_text,
            report_count=definitions.report_count(db.session, version),
        )


def _safe_choices(question: Question, language: str) -> list[tuple[str, str]]:
    try:
        parsed = definitions.parse_choices(question.choices)
    except DefinitionError:
        return []
    return [(c.code, definitions.choice_label(parsed, c.code, language)) for c in parsed]
