"""LOOP on gnomon: the demo's closed loop in ``GNOMON_HOME`` (``gnomon.demo_loop``): drifted
traffic from 8 connections → the monitor's alert → the policy's retraining → the gate → the
change's risk → a canary stepped to promotion; then a bad candidate's canary, rolled back on
the outcomes of its answers. Prints one JSON line.

``drift_to_promotion_s``: from the traffic turning to drifted rows to the promoted model
(its records written, the windows closing, the alert, the retraining pipeline, the gate, two
canary steps of ``hold_s`` each); ``canary_to_rollback_s``: from the bad candidate's canary
starting to its rollback. ``failed`` counts requests that got no 200 meanwhile.
"""

from __future__ import annotations

from bench.workloads._common import emit, load, parser


def main() -> None:
    args = parser().parse_args()
    data = load(args.data)
    from gnomon.demo import _load_split
    from gnomon.demo_loop import run_loop

    found = run_loop(_load_split(), hold_s=data["hold_s"])
    emit(
        {
            "drift_to_promotion_s": found.drift_to_promotion_s,
            "canary_to_rollback_s": found.canary_to_rollback_s,
            "requests": found.requests,
            "failed": found.failed,
            "promoted": int(found.promoted["state"] == "promoted"),
            "rolled_back": int(found.rolled_back["state"] == "rolled_back"),
            "hold_s": data["hold_s"],
        }
    )


if __name__ == "__main__":
    main()
