"""The closed loop: policies that retrain a model when its monitor alerts, new data lands or
a schedule says so; a gate that judges the candidate against the champion; a change-risk
classification from the two versions' lineage; and a rollout controller that advances,
promotes or rolls back on live evidence. Also ``gnomon reproduce RUN``."""
