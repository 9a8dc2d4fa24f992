"""Writes types.parquet, the committed Parquet fixture of tests/test_parquet_reader.py.

    python3 tests/data/readers/make_parquet.py

Three rows in two row groups (2 + 1), one column per value conversion the reader
documents. The values are made up for the test; regenerate only when the test
changes with it.
"""

import datetime
import decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

UTC = datetime.timezone.utc
table = pa.table(
    {
        "id": pa.array([1, 2, 3], pa.int64()),
        "messages": pa.array(
            [
                [{"role": "user", "content": "Card declined?"}, {"role": "assistant", "content": "declined_card"}],
                [{"role": "user", "content": "Où est ma carte ?"}, {"role": "assistant", "content": "card_arrival"}],
                [],
            ]
        ),
        "score": pa.array([0.5, float("nan"), None], pa.float64()),
        "created": pa.array(
            [datetime.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC), None, datetime.datetime(1999, 12, 31, tzinfo=UTC)],
            pa.timestamp("us", tz="UTC"),
        ),
        "day": pa.array([datetime.date(2024, 1, 2), datetime.date(2000, 2, 29), None]),
        "price": pa.array([decimal.Decimal("12.50"), decimal.Decimal("-0.01"), None], pa.decimal128(9, 2)),
        "count": pa.array([decimal.Decimal("7"), None, decimal.Decimal("-3")], pa.decimal128(9, 0)),
        "raw": pa.array([b"plain text", b"\x89PNG\r\n\x1a\n", None], pa.binary()),
        "attrs": pa.array([[("lang", "en")], [], None], pa.map_(pa.string(), pa.string())),
        "wait": pa.array([datetime.timedelta(seconds=1.5), None, datetime.timedelta(days=1)], pa.duration("ms")),
        "label": pa.array(["a", "b", "a"]).dictionary_encode(),
        "meta": pa.array(
            [
                {"source": "web", "seen": datetime.datetime(2024, 5, 6, 7, 8, 9), "weights": [1.0, float("inf")]},
                {"source": None, "seen": None, "weights": []},
                None,
            ]
        ),
    }
)
pq.write_table(table, Path(__file__).with_name("types.parquet"), row_group_size=2)
