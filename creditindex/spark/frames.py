"""Types across the three worlds: polars frames, Arrow tables and Spark schemas.

One mapping from polars data types to Spark and Arrow types, so the schema Spark is told
and the Arrow table a worker returns agree column by column.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa
from pyspark.sql import types as st


def spark_type(dtype: pl.DataType) -> st.DataType:
    """The Spark type of a polars type (strings, numbers, booleans, dates, lists)."""
    simple: list[tuple[type[pl.DataType], st.DataType]] = [
        (pl.String, st.StringType()), (pl.Float64, st.DoubleType()),
        (pl.Float32, st.FloatType()), (pl.Int64, st.LongType()),
        (pl.Int32, st.IntegerType()), (pl.Int16, st.ShortType()), (pl.Int8, st.ByteType()),
        (pl.UInt32, st.LongType()), (pl.UInt8, st.ShortType()),
        (pl.Boolean, st.BooleanType()), (pl.Date, st.DateType()),
    ]
    for polars_type, spark in simple:
        if isinstance(dtype, polars_type):
            return spark
    if isinstance(dtype, pl.List):
        inner = dtype.inner
        return st.ArrayType(spark_type(inner() if isinstance(inner, type) else inner))
    if isinstance(dtype, pl.Datetime):
        return st.TimestampType()
    raise TypeError(f"no Spark type for the polars type {dtype}")


def spark_schema(schema: dict[str, pl.DataType] | pl.Schema) -> st.StructType:
    """A Spark schema with the columns of a polars schema, in order."""
    return st.StructType([st.StructField(name, spark_type(dtype), True)
                          for name, dtype in schema.items()])


def arrow_type(dtype: st.DataType) -> pa.DataType:
    """The Arrow type Spark exchanges a Spark type as (Arrow batches to and from Python)."""
    mapping: list[tuple[type[st.DataType], pa.DataType]] = [
        (st.StringType, pa.string()), (st.DoubleType, pa.float64()),
        (st.FloatType, pa.float32()), (st.LongType, pa.int64()),
        (st.IntegerType, pa.int32()), (st.ShortType, pa.int16()), (st.ByteType, pa.int8()),
        (st.BooleanType, pa.bool_()), (st.DateType, pa.date32()),
        (st.TimestampType, pa.timestamp("us", tz="UTC")),
    ]
    for spark, arrow in mapping:
        if isinstance(dtype, spark):
            return arrow
    if isinstance(dtype, st.ArrayType):
        return pa.list_(arrow_type(dtype.elementType))
    raise TypeError(f"no Arrow type for the Spark type {dtype}")


def arrow_schema(schema: st.StructType) -> pa.Schema:
    """The Arrow schema of a Spark schema."""
    return pa.schema([pa.field(f.name, arrow_type(f.dataType)) for f in schema.fields])


def to_arrow(frame: pl.DataFrame, schema: pa.Schema) -> pa.Table:
    """``frame`` as an Arrow table of exactly ``schema`` (columns selected in its order,
    polars' large strings cast to the strings Spark expects)."""
    table = frame.select(schema.names).to_arrow()
    return table.cast(schema)


def from_arrow(table: pa.Table, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """An Arrow table from Spark as a polars frame of ``schema`` (its columns only; any
    missing column null)."""
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    present = [c for c in schema if c in frame.columns]
    return frame.select(present).with_columns(
        pl.lit(None, dtype).alias(c) for c, dtype in schema.items() if c not in present
    ).select(list(schema)).cast(schema)  # type: ignore[arg-type]
