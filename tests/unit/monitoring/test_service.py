"""Monitors over records written as model servers write them: windows, drift, quality,
outliers, performance by arm and segment, incremental runs, and bad input."""

from __future__ import annotations

import pytest

from gnomon.errors import AlreadyExists, InvalidInput, NotFound
from gnomon.monitoring.entities import MonitorSpec, ReferenceSpec
from tests.fixtures.monitoring import HOUR, Served, frame


def test_a_shifted_hour_is_flagged_and_a_calm_one_is_not(served: Served) -> None:
    calm, shifted = frame(400, seed=1), frame(400, seed=2, shift=1.0, weights=[0.1, 0.1, 0.8])
    served.write(calm, served.base_ms, "calm")
    served.write(shifted, served.base_ms + HOUR, "shifted")
    monitors = served.client.monitors
    monitors.create("web-drift", MonitorSpec("web", window_s=3600))

    run = monitors.run("web-drift", until_ms=served.base_ms + 2 * HOUR)

    first, second = run.windows
    assert (first.start_ms, second.start_ms) == (served.base_ms, served.base_ms + HOUR)
    assert first.rows == second.rows == 400
    assert first.figure("drift.detected.x") == 0.0
    assert first.figure("drift.detected.country") == 0.0
    assert second.figure("drift.detected.x") == 1.0
    assert second.figure("drift.detected.country") == 1.0
    assert second.figure("drift.detected.y") == 0.0
    assert second.figure("drift.share") == pytest.approx(2 / 3)
    assert run.watermark_ms == served.base_ms + 2 * HOUR
    stored = monitors.results("web-drift")
    assert [w.values for w in stored] == [w.values for w in run.windows]


def test_a_run_reads_only_windows_it_has_not_seen(served: Served) -> None:
    served.write(frame(100, seed=1), served.base_ms, "a")
    monitors = served.client.monitors
    monitors.create("m", MonitorSpec("web", window_s=3600))
    assert len(monitors.run("m", until_ms=served.base_ms + HOUR).windows) == 1
    assert monitors.run("m", until_ms=served.base_ms + HOUR).windows == ()
    served.write(frame(50, seed=3), served.base_ms + HOUR, "b")
    again = monitors.run("m", until_ms=served.base_ms + 2 * HOUR)
    assert [w.rows for w in again.windows] == [50]
    assert len(monitors.results("m")) == 2


def test_an_hour_without_records_is_an_empty_window_not_an_error(served: Served) -> None:
    served.write(frame(60, seed=1), served.base_ms, "a")
    served.write(frame(60, seed=2), served.base_ms + 2 * HOUR, "c")
    monitors = served.client.monitors
    monitors.create("m", MonitorSpec("web", window_s=3600))
    rows = [w.rows for w in monitors.run("m", until_ms=served.base_ms + 3 * HOUR).windows]
    assert rows == [60, 0, 60]
    assert monitors.results("m")[1].figure("drift.share") is None


def test_too_few_rows_are_insufficient_never_drift(served: Served) -> None:
    served.write(frame(5, seed=1, shift=5.0), served.base_ms, "few")
    monitors = served.client.monitors
    monitors.create("m", MonitorSpec("web", window_s=3600))
    (window,) = monitors.run("m", until_ms=served.base_ms + HOUR).windows
    assert window.figure("drift.detected.x") is None
    details = {c["column"]: c["status"] for c in window.details["drift"]["columns"]}
    assert details["x"] == "insufficient"


def test_quality_counts_nulls_out_of_range_unseen_and_wrong_types(served: Served) -> None:
    rows = frame(10, seed=1)
    rows.loc[0, "x"] = None
    rows.loc[1, "x"] = 1e6  # far beyond the contract's range
    rows.loc[2, "country"] = "ZZ"  # not a category of the training data
    rows["y"] = rows["y"].astype(object)
    rows.loc[3, "y"] = "oops"
    served.write(rows, served.base_ms, "q")
    monitors = served.client.monitors
    monitors.create("m", MonitorSpec("web", window_s=3600))
    (window,) = monitors.run("m", until_ms=served.base_ms + HOUR).windows
    assert window.figure("quality.null_rate.x") == pytest.approx(0.1)
    assert window.figure("quality.out_of_range_rate.x") == pytest.approx(0.1)
    assert window.figure("quality.unseen_rate.country") == pytest.approx(0.1)
    assert window.figure("quality.type_error_rate.y") == pytest.approx(0.1)
    assert window.figure("quality.null_rate.y") == 0.0


def test_outliers_are_rated_and_the_worst_records_named(served: Served) -> None:
    rows = frame(200, seed=1)
    rows.loc[7, "x"] = 40.0
    served.write(rows, served.base_ms, "o")
    monitors = served.client.monitors
    monitors.create("m", MonitorSpec("web", window_s=3600))
    (window,) = monitors.run("m", until_ms=served.base_ms + HOUR).windows
    assert 0 < window.figure("outliers.rate") < 0.05
    assert window.details["outliers"]["top"][0]["request_id"] == "o-7"


def test_performance_overall_per_arm_and_per_segment(served: Served) -> None:
    rows = frame(40, seed=1)
    # The prediction is x > 0; outcomes agree everywhere but in ES, where they are flipped.
    truth = {
        f"p-{i}": int((x > 0) != (c == "ES"))
        for i, (x, c) in enumerate(zip(rows["x"], rows["country"], strict=True))
    }
    truth.pop("p-0")  # an outcome that never arrived
    ids = served.write(rows, served.base_ms, "p", outcomes=truth)
    served.write(rows.iloc[:10], served.base_ms + 100, "p", role="shadow", version=2)
    monitors = served.client.monitors
    monitors.create("m", MonitorSpec("web", window_s=3600, segment="country"))
    (window,) = monitors.run("m", until_ms=served.base_ms + HOUR).windows
    known = [i for i in ids if i in truth]
    es = [i for i, c in zip(ids, rows["country"], strict=True) if i in truth and c == "ES"]
    assert window.figure("performance.outcomes") == len(known)
    assert window.figure("performance.accuracy") == pytest.approx(1 - len(es) / len(known))
    assert window.figure("performance.segment.country=ES.accuracy") == 0.0
    assert window.figure("performance.segment.country=FR.accuracy") == 1.0
    arms = window.details["performance"]["arms"]
    assert arms["primary"]["outcomes"] == len(known)
    assert arms["shadow"]["version"] == 2
    assert arms["shadow"]["outcomes"] == len([i for i in ids[:10] if i in truth])


def test_the_latest_of_duplicate_outcomes_wins(served: Served) -> None:
    rows = frame(2, seed=1)
    served.write(rows, served.base_ms, "d", outcomes={"d-0": 0, "d-1": 0})
    served.write(rows.iloc[:0], served.base_ms + 1000, "none", outcomes={"d-0": 1, "d-1": 1})
    monitors = served.client.monitors
    monitors.create("m", MonitorSpec("web", window_s=3600, task="classification"))
    (window,) = monitors.run("m", until_ms=served.base_ms + HOUR).windows
    expected = sum(int(x > 0) == 1 for x in rows["x"]) / 2
    assert window.figure("performance.accuracy") == pytest.approx(expected)


def test_count_windows_cut_every_n_records(served: Served) -> None:
    served.write(frame(250, seed=1), served.base_ms, "c")
    monitors = served.client.monitors
    monitors.create("m", MonitorSpec("web", window_s=None, window_rows=100))
    run = monitors.run("m")
    assert [w.rows for w in run.windows] == [100, 100]
    served.write(frame(60, seed=2), served.base_ms + HOUR, "d")
    assert [w.rows for w in monitors.run("m").windows] == [100]


def test_bad_input_is_named(served: Served) -> None:
    monitors = served.client.monitors
    with pytest.raises(NotFound, match="nope"):
        monitors.create("m", MonitorSpec("nope"))
    with pytest.raises(InvalidInput, match="'age'"):
        monitors.create("m", MonitorSpec("web", columns=("x", "age")))
    with pytest.raises(NotFound):
        monitors.create("m", MonitorSpec("web", reference=ReferenceSpec("dataset", "other@1")))
    with pytest.raises(InvalidInput, match="drift"):
        monitors.create("m", MonitorSpec("web", drift={"numeric_test": "nonsense"}))
    with pytest.raises(InvalidInput, match="window"):
        MonitorSpec("web", window_s=5)
    monitors.create("m", MonitorSpec("web"))
    with pytest.raises(AlreadyExists):
        monitors.create("m", MonitorSpec("web"))
    with pytest.raises(NotFound):
        monitors.run("other")


def test_a_reference_without_the_monitored_columns_is_refused(served: Served) -> None:
    import gnomon

    gnomon.log_dataset(frame(50, seed=4).drop(columns=["country"]), "partial")
    with pytest.raises(InvalidInput, match="'country'"):
        served.client.monitors.create(
            "m", MonitorSpec("web", reference=ReferenceSpec("dataset", "partial@1"))
        )


def test_a_numeric_segment_is_scored_by_band(served: Served) -> None:
    rows = frame(200, seed=1)
    truth = {f"b-{i}": int(x > 0) if x < 1 else 1 - int(x > 0) for i, x in enumerate(rows["x"])}
    served.write(rows, served.base_ms, "b", outcomes=truth)
    monitors = served.client.monitors
    monitors.create("m", MonitorSpec("web", window_s=3600, segment="x"))
    (window,) = monitors.run("m", until_ms=served.base_ms + HOUR).windows
    segments = window.details["performance"]["segments"]
    assert len(segments) == 4
    top = next(name for name in segments if name.endswith(", inf)"))
    lower = float(top[1:].split(",")[0])  # the band's printed bound: 4 significant digits
    band = rows["x"][rows["x"] >= lower]
    assert segments[top]["outcomes"] == len(band)
    # Outcomes are flipped above x = 1: the band's accuracy is its share below 1.
    assert segments[top]["metrics"]["accuracy"] == pytest.approx((band < 1).mean())
    low = next(name for name in segments if name.startswith("[-inf,"))
    assert segments[low]["metrics"]["accuracy"] == 1.0


def test_outcomes_that_arrive_after_the_window_still_join_it(served: Served) -> None:
    from gnomon.config import Settings
    from gnomon.predictions.entities import Outcome
    from gnomon.predictions.records import OutcomeWriter
    from gnomon.predictions.storage import predictions_store

    rows = frame(20, seed=1)
    ids = served.write(rows, served.base_ms, "late")
    late = OutcomeWriter(predictions_store(Settings().artifact_root, "default"))
    # Two hours after the window: another hour partition of the outcomes.
    arrived = served.base_ms + 2 * HOUR + 5
    late.submit(
        [Outcome(i, arrived, "web", int(x > 0)) for i, x in zip(ids, rows["x"], strict=True)]
    )
    late.close()
    monitors = served.client.monitors
    monitors.create("m", MonitorSpec("web", window_s=3600, task="classification"))
    (window,) = monitors.run("m", until_ms=served.base_ms + HOUR).windows
    assert window.figure("performance.outcomes") == 20
    assert window.figure("performance.accuracy") == 1.0


def test_a_window_waits_for_its_outcome_delay(served: Served) -> None:
    from gnomon._types import now_ms

    settled = now_ms() - 60_000  # past the writers' grace, whatever the minute
    last_hour = settled - settled % HOUR - HOUR  # closed, less than two hours ago
    served.write(frame(30, seed=1), last_hour, "recent")
    monitors = served.client.monitors
    monitors.create("patient", MonitorSpec("web", window_s=3600, outcome_delay_s=86_400))
    monitors.create("eager", MonitorSpec("web", window_s=3600))
    assert monitors.run("patient").windows == ()
    assert [w.rows for w in monitors.run("eager").windows][-1:] == [30]


def test_champion_and_challenger_are_scored_side_by_side(served: Served) -> None:
    rows = frame(60, seed=5)
    truth = {f"champ-{i}": int(x > 0) for i, x in enumerate(rows["x"])}
    truth |= {f"chall-{i}": 1 - int(x > 0) for i, x in enumerate(rows["x"])}
    served.write(rows, served.base_ms, "champ", outcomes=truth)
    served.write(rows, served.base_ms + 500, "chall", role="canary", version=2)
    monitors = served.client.monitors
    monitors.create("m", MonitorSpec("web", window_s=3600))
    (window,) = monitors.run("m", until_ms=served.base_ms + HOUR).windows
    assert window.figure("performance.arm.primary.accuracy") == 1.0
    assert window.figure("performance.arm.canary.accuracy") == 0.0
    assert window.figure("performance.accuracy") == 0.5  # both are live answers
    assert window.details["performance"]["arms"]["canary"]["version"] == 2


def test_files_with_and_without_typed_inputs_read_alike(served: Served) -> None:
    """Files from before records kept a typed copy of their inputs (JSON only) and newer
    ones, in one window, give the figures the same rows give in one kind of file."""
    from gnomon.config import Settings
    from gnomon.predictions.entities import PredictionRecord
    from gnomon.predictions.records import RecordWriter
    from gnomon.predictions.storage import predictions_store

    rows = frame(120, seed=3)
    served.write(rows.iloc[:60], served.base_ms, "typed")
    plain = RecordWriter(predictions_store(Settings().artifact_root, "default"))
    plain.submit(
        [
            PredictionRecord(
                f"plain-{i}",
                served.base_ms + 100 + i,
                "web",
                "churn",
                1,
                dict(row),
                int(row["x"] > 0),
                1.0,
            )
            for i, row in enumerate(rows.iloc[60:].to_dict(orient="records"))
        ]
    )
    plain.close()
    monitors = served.client.monitors
    monitors.create("mixed", MonitorSpec("web", window_s=3600))
    (mixed,) = monitors.run("mixed", until_ms=served.base_ms + HOUR).windows
    served.write(rows, served.base_ms + HOUR, "all-typed")
    monitors.create("typed", MonitorSpec("web", window_s=3600, start_ms=served.base_ms + HOUR))
    (typed,) = monitors.run("typed", until_ms=served.base_ms + 2 * HOUR).windows
    assert mixed.rows == typed.rows == 120
    for name in ("drift.score.x", "drift.score.y", "drift.score.country", "outliers.rate"):
        assert mixed.figure(name) == pytest.approx(typed.figure(name)), name
    assert mixed.details["quality"] == typed.details["quality"]
