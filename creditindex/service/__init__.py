"""The service layer the faces share: what the app (``creditindex.ui``) and the command
line (``creditindex.cli``) do with the store, each action after the user's role is
checked (:mod:`.auth`), with identifiers masked by the one rule (:mod:`.masking`).

No module here imports Streamlit or keeps a cache: a face passes the store's URL and what
it has cached (the store's data, the subject directory) and caches the answers itself.

- :mod:`.auth`: roles and permissions; :mod:`.limits`: limits on anonymous checks;
- :mod:`.state`: the store's state token, its kind, refused actions;
- :mod:`.days`: a day's rankings (stored or computed), the first page, the directory;
- :mod:`.profiles`: one subject's profile, its records' events and grounds;
- :mod:`.checks`: eligibility checks as the app issues them, and verification;
- :mod:`.masking`: identifiers as shown publicly in answers and evidence;
- :mod:`.records`: objections, repairs, manual restrictions, requests for approval;
- :mod:`.imports`: uploads checked and imported; :mod:`.rulesets`: rule-set texts,
  versions and a draft's impact; :mod:`.users`: a user as the store knows them, the audit
  log.
"""
