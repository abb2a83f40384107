#!/usr/bin/env bash
# Run once, by hand, before the first CI run: what every later run builds on.
#   - the dataset's first version, whose schema `gnomon data validate` checks new data against
#     (review it with `gnomon data schema show "$GNOMON_DATASET"`, tighten it with `schema edit`);
#   - the first model, registered with the alias `production`: the champion CI compares with;
#   - the deployment serving it, which CI rolls each new version out over.
# With GNOMON_URI, GNOMON_TOKEN and GNOMON_WORKSPACE set as the CI secrets are.
set -euo pipefail

: "${GNOMON_URI:?set GNOMON_URI to the gnomon server}"
: "${GNOMON_WORKSPACE:?set GNOMON_WORKSPACE to the workspace CI works in}"
GNOMON_DATASET="${GNOMON_DATASET:-churn-training}"
GNOMON_MODEL="${GNOMON_MODEL:-churn}"
GNOMON_DEPLOYMENT="${GNOMON_DEPLOYMENT:-churn-api}"
export GNOMON_DATASET GNOMON_MODEL GNOMON_DEPLOYMENT

gnomon data add data/churn.csv --name "$GNOMON_DATASET" -m "reference data: the schema"
python train.py
gnomon models register "runs:/$(cat .gnomon-ci/run_id)/model" "$GNOMON_MODEL" \
  --alias production --description "the first champion" -o json > .gnomon-ci/registered.json
version=$(python -c 'import json; print(json.load(open(".gnomon-ci/registered.json"))["version"])')
gnomon deploy create "$GNOMON_DEPLOYMENT" --model "$GNOMON_MODEL/$version"
echo "bootstrapped: $GNOMON_MODEL/$version (@production) serves $GNOMON_DEPLOYMENT"
