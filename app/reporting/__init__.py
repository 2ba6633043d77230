"""Campaign reporting: questionnaires, the promoters' day and weekly reports, their
photos and files, and the agency's review.

- ``definitions``: questionnaires, versions, pages and questions; which questionnaire
  an appointment or job uses (its own, else its job's, else its project's).
- ``answers``: checking submitted answers against a version's questions.
- ``operations``: the only code that changes a report's state (draft → submitted →
  returned / approved) and its answers and files.
- ``images`` and ``storage``: uploads checked from their content, photos cleaned and
  thumbnailed, kept outside the static folder behind a small storage interface.
- views: the agency's questionnaire editor and review queue, the promoter's report
  form, the API (``api``) and the file routes (``files_view``).

Who sees a report or a file is decided in :mod:`app.security.visibility`.
"""
