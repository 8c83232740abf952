"""The engines' tests import the conformance cases and the strategies from tests/; the Spark
tests share one local session."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

for _path in (Path(__file__).parent, Path(__file__).parent.parent):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local Spark session for every Spark test (its start is most of their time)."""
    from pqltools.engines.spark_engine import session
    spark = session()
    # the cases are literals: interpreted evaluation beats generating code for each branch
    spark.conf.set("spark.sql.codegen.wholeStage", "false")
    spark.conf.set("spark.sql.codegen.factoryMode", "NO_CODEGEN")
    yield spark
    spark.stop()
