"""Push Airflow task failures to the observability inbox the moment they happen.

`ingest_airflow` pulls failures from the REST API every few minutes; this callback makes them arrive
at once. Both paths produce the same dedup key, so a failure pushed here and pulled later counts once.

Use it as a DAG's (or a task's) `on_failure_callback`:

    from airflow_failure_callback import notify_observability

    with DAG("orders_daily", default_args={"on_failure_callback": notify_observability}, ...):
        ...

Configuration (environment of the Airflow workers):
  OBSERVABILITY_AIRFLOW_INSTANCE  the same name as AIRFLOW_INSTANCE of this deployment's ingest_airflow
                                  CronJob (required: it prefixes the dedup key)
The agency is resolved by ingest_airflow from the DAG's tags and AIRFLOW_AGENCY_RULES, as for pulled
failures, so the callback does not need to know it.

  OBSERVABILITY_CONN_ID           an Airflow Postgres connection to the observability database
                                  (default "observability_db"); the user needs INSERT on
                                  reporting.notification_signal_inbox only.

Before Airflow 2.10, `ti.try_number` seen by a callback could be one ahead of the try that failed; the
pulled and pushed signals then get different keys and the failure counts twice in its group.

Airflow runs `on_failure_callback` once a task is out of retries (`on_retry_callback` covers retries),
so attempts that will be retried never reach the inbox. A failing callback must never fail the task:
errors are logged and swallowed.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime, timezone

log = logging.getLogger(__name__)


def _signal_from_context(context: dict) -> dict:
    ti = context["task_instance"]
    instance = os.environ["OBSERVABILITY_AIRFLOW_INSTANCE"]
    error = context.get("exception")
    map_index = getattr(ti, "map_index", -1)
    if map_index is None:
        map_index = -1
    ended = ti.end_date or datetime.now(timezone.utc)
    return {
        "source": "airflow",
        "signal_type": "task_failed",
        "severity": "error",
        "occurred_at": ended.isoformat(),
        "job_name": ti.dag_id,
        "run_id": ti.run_id,
        "task_id": ti.task_id,
        # The operator's class name, as the pull stores it (Airflow 3's runtime task instance has no .operator).
        "stage": getattr(getattr(ti, "task", None), "task_type", None) or getattr(ti, "operator", None),
        "error_class": type(error).__name__ if error is not None else None,
        "error_message": str(error)[:4000] if error is not None else None,
        "summary": f"Task {ti.task_id} of DAG {ti.dag_id} failed (try {ti.try_number})",
        "details": {
            "instance": instance,
            "dag_id": ti.dag_id,
            "dag_run_id": ti.run_id,
            "task_id": ti.task_id,
            "map_index": map_index,
            "try_number": ti.try_number,
            "pushed_by": "on_failure_callback",
        },
        # Exactly the pull's key: instance|dag_id|dag_run_id|task_id|map_index|try_number
        "dedup_key": f"{instance}|{ti.dag_id}|{ti.run_id}|{ti.task_id}|{map_index}|{ti.try_number}",
    }


def notify_observability(context: dict) -> None:
    try:
        from airflow.providers.postgres.hooks.postgres import PostgresHook

        signal = _signal_from_context(context)
        hook = PostgresHook(postgres_conn_id=os.environ.get("OBSERVABILITY_CONN_ID", "observability_db"))
        # A parameterised insert: the payload is data, never SQL.
        hook.run(
            "INSERT INTO reporting.notification_signal_inbox (source, payload) VALUES (%s, %s::jsonb)",
            parameters=("airflow", json.dumps(signal)),
        )
    except Exception:  # noqa: BLE001 - a notification problem must never fail the task itself
        log.exception("could not push the failure to the observability inbox")
