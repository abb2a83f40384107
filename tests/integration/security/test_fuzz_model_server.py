"""Property-based attacks on the model server's input routes: ``/predict``, ``/invocations``
and ``/outcomes``, described by ``model_server_openapi.yaml``, with a fixed and reproducible
example budget: valid bodies, invalid ones, and valid ones holding one hostile value.

No body may get a 5xx (the model server turns an unexpected error into a 503), nor a status,
content type or body the document does not list; and every outcome the server acknowledged
with a 202 must be on disk once it has shut down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis import Response
from schemathesis.checks import not_a_server_error

from gnomon.artifacts import LocalArtifactStore
from gnomon.modelfolder import load_folder, save_model
from gnomon.predictions.reading import read_outcomes
from gnomon.predictions.records import OutcomeWriter, RecordWriter
from gnomon.serving.app import ServedModel, create_serving_app
from tests.fixtures.server import run_uvicorn
from tests.integration.security.fuzz import NO_ANSWER, AnyCase, Report, describe, fuzz

SPEC = Path(__file__).with_name("model_server_openapi.yaml")
BUDGET = 50  # requests per operation and pass: 450 in all
CHECKS = {
    "not_a_server_error": not_a_server_error,
    "status_code_conformance": schemathesis.checks.status_code_conformance,
    "content_type_conformance": schemathesis.checks.content_type_conformance,
    "response_schema_conformance": schemathesis.checks.response_schema_conformance,
}


@dataclass
class Fuzzed:
    report: Report
    accepted: list[int] = field(default_factory=list)  # the count in each 202 from /outcomes
    written: int = 0  # outcomes on disk after the server shut down


def _model(folder: Path) -> ServedModel:
    """A small classifier on hour (integer), amount (number) and city (category)."""
    import numpy as np
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "hour": rng.integers(0, 24, 100),
            "amount": rng.uniform(1.0, 500.0, 100),
            "city": rng.choice(["lyon", "oslo", "pune"], 100),
        }
    )
    label = (frame["hour"] > 12).astype(int)
    encode = ColumnTransformer([("city", OneHotEncoder(), ["city"])], remainder="passthrough")
    model = make_pipeline(encode, RandomForestClassifier(n_estimators=5, random_state=0))
    save_model(model.fit(frame, label), folder, input_example=frame)
    return ServedModel(load_folder(folder), "fraud", 1, "models:/fraud/1", "fraud-api")


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Fuzzed:
    """One fuzz run; the server is shut down (flushing its writers) before the tests look."""
    home = tmp_path_factory.mktemp("fuzz-serving")
    store = LocalArtifactStore(home / "records")
    records, outcomes = RecordWriter(store, interval=0.05), OutcomeWriter(store, interval=0.05)
    app = create_serving_app(_model(home / "model"), records, outcomes)
    accepted: list[int] = []

    def tally(ctx: Any, response: Response, case: AnyCase) -> None:
        if case.path == "/outcomes" and response.status_code == 202:
            accepted.append(response.json()["accepted"])

    with run_uvicorn(app, lifespan="on") as url:
        config = schemathesis.Config.from_dict({"base-url": url})
        schema = schemathesis.openapi.from_path(str(SPEC), config=config)
        report = fuzz(schema, {**CHECKS, "tally": tally}, budget=BUDGET)
    written = read_outcomes(store)
    return Fuzzed(report, accepted, len(written))


def test_no_body_gets_a_server_error(fuzzed: Fuzzed) -> None:
    findings = fuzzed.report.of("not_a_server_error", NO_ANSWER)
    assert not findings, describe(findings)


def test_every_status_answered_is_documented(fuzzed: Fuzzed) -> None:
    findings = fuzzed.report.of("status_code_conformance")
    assert not findings, describe(findings)


def test_every_answer_has_its_documented_content_type_and_schema(fuzzed: Fuzzed) -> None:
    findings = fuzzed.report.of("content_type_conformance", "response_schema_conformance")
    assert not findings, describe(findings)


def test_every_accepted_outcome_is_written(fuzzed: Fuzzed) -> None:
    assert fuzzed.accepted, "the fuzzer never got an outcome accepted: the test proves nothing"
    lost = sum(fuzzed.accepted) - fuzzed.written
    assert lost == 0, f"{lost} of {sum(fuzzed.accepted)} outcomes answered 202 were never written"


def test_the_fuzzer_gets_answers_from_the_model(fuzzed: Fuzzed) -> None:
    """Guards the tests above: every route answered some generated bodies with a 2xx."""
    answered = {operation for (operation, status) in fuzzed.report.statuses if status < 300}
    assert answered == {"POST /predict", "POST /invocations", "POST /outcomes"}
