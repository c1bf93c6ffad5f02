"""Model instances from hand-written SQL, for the two lookups every signed-in request makes: the user, and a
patient's open plan.

The ORM spends more Python building those queries than PostgreSQL spends answering them (docs/BENCHMARKS.md). A
hand-written query must still give back the instance the ORM would: every column, by name, with each value
converted as the ORM converts it (SQLite's date-times made aware, a field's own ``from_db_value``).
"""

import functools
import threading

from django.db import connections

# What a model's rows need, worked out once per thread and database (each thread has its own connections).
_row_shapes = threading.local()


@functools.cache  # the same few strings on every request
def select_columns(model, table_alias):
    """The model's columns for a SELECT, by name. Never ``alias.*``: a statement prepared once per connection
    (clinic/settings.py) must keep the shape of its result when a migration adds a column while servers still run
    the release before it (docs/DEPLOY.md)."""
    return ", ".join(f'{table_alias}."{field.column}"' for field in model._meta.concrete_fields)


def fetch_instance(model, using, sql, params):
    """The ``model`` instance made from the first row of ``sql``, or None. ``sql`` selects ``select_columns``."""
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    attnames, converters = _row_shape(model, connection)
    values = list(row)
    for index, functions, expression in converters:
        for function in functions:
            values[index] = function(values[index], expression, connection)
    return model.from_db(using, attnames, values)


def _row_shape(model, connection):
    shapes = _row_shapes.__dict__.setdefault(connection.alias, {})
    if model not in shapes:
        fields = model._meta.concrete_fields
        converters = []
        for index, field in enumerate(fields):
            # The converters the ORM's compiler applies to this column (SQLCompiler.get_converters).
            expression = field.get_col(model._meta.db_table)
            functions = connection.ops.get_db_converters(expression) + expression.get_db_converters(connection)
            if functions:
                converters.append((index, functions, expression))
        shapes[model] = ([field.attname for field in fields], converters)
    return shapes[model]
