"""The store: SQLModel persistence of subjects, append-only penalty records and their
dated events (objections, revocations, repairs), external list entries, rule-set
versions, daily snapshots, eligibility checks, users and the audit log.

SQLite by default (``var/creditindex.sqlite``), PostgreSQL or MySQL/MariaDB by URL
(``--db`` / ``CREDITINDEX_DB``); schema migrations with Alembic. Modules:

- :mod:`~creditindex.store.db`: engines, transactions, the store lock, ``table(name)``
  (the models imported on first use) and ``insert_row`` (one row through SQL);
- :mod:`~creditindex.store.driver`: the raw-driver helpers, and the direct path of
  ``check --db`` through ``sqlite3`` / ``psycopg`` (no SQLAlchemy; MariaDB keeps the
  engine path);
- :mod:`~creditindex.store.models`: the tables; :mod:`~creditindex.store.names`: the
  closed vocabularies (roles, event kinds, API scopes, channels);
- :mod:`~creditindex.store.migrations`: ``upgrade(url)``, ``ensure_schema``;
- :mod:`~creditindex.store.importer`: record, subject and list imports;
- :mod:`~creditindex.store.load`: the store as ``CreditData``;
- :mod:`~creditindex.store.snapshots`: the daily evaluation job;
- :mod:`~creditindex.store.lifecycle`: objections, revocation, repair, restrictions;
- :mod:`~creditindex.store.rulesets`: publishing rule-set versions;
- :mod:`~creditindex.store.users`, :mod:`~creditindex.store.audit`,
  :mod:`~creditindex.store.checks`.
"""
