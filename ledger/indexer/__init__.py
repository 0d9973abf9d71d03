"""The read side: chain events into SQL read models that every query is served from (issue #10).

``events`` decodes logs, ``read_models`` holds the tables, ``units`` derives a unit's rows from its events,
``sync`` runs passes (ranges, cursor, reorgs, resets) and ``queries`` answers the services' questions.
"""
