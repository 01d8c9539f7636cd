"""The shop's system of record: catalog, customers, orders and the rules for changing them.

Entry point: :class:`~shopagent.agent.store.shop.Shop`. ``Shop.open(url)`` migrates and opens a database;
``shop.session(conversation_id, actor)`` gives a :class:`~shopagent.agent.store.shop.ShopSession` whose
methods are the τ²-bench retail tools. Changes are previewed, then confirmed with the preview's token and
an idempotency key.
"""
