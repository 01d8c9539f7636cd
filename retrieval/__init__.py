"""Product and policy search over Chroma.

``records`` (what is indexed and returned) → ``store`` (Chroma clients, HNSW parameters, no default
embedding function) → ``index`` (collections, incremental sync) → ``search`` (filters, live variant
check, re-rank hook); ``evaluate`` and ``bench`` measure quality and speed. The shop's database is
reached only through the :class:`~shopagent.retrieval.search.Catalog` protocol (the glue is
``shopagent.agent.search``).
"""
