"""The same engine on Apache Spark (past one machine).

Canonical records are read from Parquet, sharded by a hash of ``subject_id`` (every role
of a subject in one shard, so restrictions that cross roles stay exact), and each shard
is evaluated whole by the project's own :func:`creditindex.evaluate.compute` through
Spark's Arrow interface (``applyInArrow``: Arrow in, polars inside, Arrow out). External
list entries are broadcast to every shard. Ranks are computed globally from counts per
(subject type, index value) - an index has at most (base - floor) x 100 + 1 values -
instead of a sort of all subjects. Manual restrictions are sharded like the records. A
state folder keeps per-shard state (answers, change points, input hashes) and a manifest
of per-shard input fingerprints, so a rerun, the same day or a later one, evaluates only
the shards whose inputs changed or whose subjects reached a change point, and in them
only those subjects. Questions about a few subjects read only their records.

Modules: :mod:`.session` (the SparkSession), :mod:`.frames` (polars/Arrow/Spark types),
:mod:`.sharding` (shard numbers and fingerprints), :mod:`.shard_engine` (what runs on a
worker), :mod:`.ranks` (global ranks from counts), :mod:`.inputs` (reading Parquet),
:mod:`.manifest` (the state folder), :mod:`.pipeline` (a day's answer end to end),
:mod:`.lookup` (a few subjects' records, for ``check``).

pyspark is an optional dependency (the ``spark`` extra); nothing outside this package
imports it.
"""
