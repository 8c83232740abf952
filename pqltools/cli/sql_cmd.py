"""``pql convert --to sql``: the SQL the batch engines run for each input (docs/engines.md)."""

from __future__ import annotations

from pqltools.cli.inputs import sources_from_text


def convert_to_sql(label: str, text: str, path: object, dialect: str, now: str | None) -> str:
    """The SQL of every definition in one input, each after a ``-- label`` comment when the input
    holds several. Raises PQLError for invalid PQL or a construct the engine refuses."""
    from pqltools.engines.api import to_sql
    sources = sources_from_text(label, text, path=path)  # type: ignore[arg-type]
    parts = []
    for source in sources:
        sql = to_sql(source.text, dialect, now=now)
        parts.append(f"-- {source.label}\n{sql}" if len(sources) > 1 else sql)
    return "\n\n".join(parts)
