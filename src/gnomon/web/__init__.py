"""What both HTTP servers share: the API server (:mod:`gnomon.server`) and the model server
(:mod:`gnomon.serving`) import it, and it imports neither.

``middleware`` gives requests their ids and metrics, ``boundary`` answers an unexpected
exception inside the app, ``errors`` writes the one error body, ``prometheus`` sums metrics
across workers and ``proxy`` decides whose ``X-Forwarded-For`` to believe.
"""
