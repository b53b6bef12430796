"""The columnar toolkit below the predicates: verdict codes, Polars expression helpers and the
Kleene combinators, the typing of a CSV batch, and the compile-time builder. Nothing here
imports a predicate."""
