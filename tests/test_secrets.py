"""The secrets canary: every credential field of every engine gets a unique value, real
commands run against the local stand-ins (runs, exports, report, error paths with --debug),
and none of the values may appear in the store, the exports, the report, the results folder or
anything printed."""

from __future__ import annotations

import json
import subprocess

import duckdb
import yaml
from conftest import WHBENCH

CANARIES = {
    "snowflake_password": "canary-sf-password-7f3a",
    "snowflake_passphrase": "canary-sf-passphrase-91c2",
    "snowflake_token": "canary-sf-token-0d4e",
    "redshift_password": "canary-rs-password-5b8e",
    "bigquery_key": "canary-bq-private-key-c6a1",
}


def test_no_secret_leaks_anywhere(
    tmp_path, data_dir, fakesnow_port, redshift_port, bqemulator_port
):
    # A service-account key file (its private key is the secret) for the BigQuery error path.
    key_file = tmp_path / "sa.json"
    key_file.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "whbench-test",
                "private_key_id": "1",
                "private_key": CANARIES["bigquery_key"],
                "client_email": "bench@whbench-test.iam.gserviceaccount.com",
                "token_uri": "http://127.0.0.1:9/token",
            }
        )
    )
    env = {
        "WHB_SF_PASSWORD": CANARIES["snowflake_password"],
        "WHB_SF_PASSPHRASE": CANARIES["snowflake_passphrase"],
        "WHB_RS_PASSWORD": CANARIES["redshift_password"],
        "WHB_SF_TOKEN": CANARIES["snowflake_token"],
    }
    engines = {
        "duckdb": {"database": ":memory:"},
        "snowflake": {
            "host": "127.0.0.1",
            "port": fakesnow_port,
            "protocol": "http",
            "account": "fake",
            "user": "fake",
            "password": "${WHB_SF_PASSWORD}",  # from the environment
            "warehouse_size": "XSMALL",
        },
        "redshift": {
            "host": "127.0.0.1",
            "port": redshift_port,
            "database": "postgres",
            "user": "bench",
            "password": "${WHB_RS_PASSWORD}",
            "ssl": False,
        },
        "bigquery": {
            "project": "whbench-test",
            "api_endpoint": f"http://127.0.0.1:{bqemulator_port}",
            "anonymous": True,
        },
    }
    good = tmp_path / "good.yaml"
    good.write_text(
        yaml.safe_dump(
            {
                "runs": 1,
                "data_dir": str(data_dir),
                "results_dir": "results",
                "engines": engines,
                "workloads": {"tpch": {"scale": 0.01, "queries": ["q01", "q06"]}},
            }
        )
    )
    # Error paths: a key pair whose key file is missing, an OAuth token, and a BigQuery key
    # file that cannot get a token.
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        yaml.safe_dump(
            {
                "runs": 1,
                "data_dir": str(data_dir),
                "results_dir": "results",
                "timeout_seconds": 30,
                "engines": {
                    "snowflake": {
                        **engines["snowflake"],
                        "private_key_file": str(tmp_path / "missing.p8"),
                        "private_key_passphrase": "${WHB_SF_PASSPHRASE}",
                        "login_timeout_seconds": 5,
                    },
                    "bigquery": {"project": "whbench-test", "credentials_file": str(key_file)},
                },
                "workloads": {"tpch": {"scale": 0.01, "queries": ["q06"]}},
            }
        )
    )
    token = tmp_path / "token.yaml"
    token.write_text(
        yaml.safe_dump(
            {
                "data_dir": str(data_dir),
                "results_dir": "results",
                # one small query: the sign-in is what this config is about, not the data
                "workloads": {"tpch": {"scale": 0.01, "queries": ["q06"]}},
                "engines": {
                    "snowflake": {
                        **engines["snowflake"],
                        "password": None,
                        "token": "${WHB_SF_TOKEN}",
                    }
                },
            }
        )
    )
    # A secret written into the config itself: refused, and not printed in the refusal.
    literal = tmp_path / "literal.yaml"
    literal.write_text(
        yaml.safe_dump(
            {
                "results_dir": "results",
                "engines": {
                    "snowflake": {
                        **engines["snowflake"],
                        "password": None,
                        "private_key_file": str(tmp_path / "missing.p8"),
                        "private_key_passphrase": CANARIES["snowflake_passphrase"],
                    }
                },
            }
        )
    )

    printed = []

    def whbench(*args) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [*WHBENCH, *map(str, args)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env={**__import__("os").environ, **env},
            timeout=600,
        )
        printed.append(result.stdout + result.stderr)
        return result

    assert whbench("run", "--config", good, "--quiet", "--json").returncode in (0, 1)
    runs = json.loads(whbench("results", "list", "--config", good, "--json").stdout)
    assert {r["engine"] for r in runs} == {"duckdb", "snowflake", "redshift", "bigquery"}
    for run in runs:
        whbench("results", "show", run["run_id"], "--config", good, "--json")
        for fmt in ("json", "csv", "parquet"):
            whbench("results", "export", run["run_id"], "--config", good, "--format", fmt)
        whbench("cost", run["run_id"], "--config", good, "--json")
    whbench("report", "--config", good)
    whbench("engines", "--config", good, "--json")
    whbench("engines", "--config", token, "--json")
    assert whbench("run", "--config", bad, "--quiet", "--debug").returncode != 0
    whbench("run", "--config", bad, "--quiet")
    # fakesnow takes any OAuth token: the run signs in with it (and must not show it)
    assert whbench("run", "--config", token, "--quiet", "--debug").returncode in (0, 1)
    whbench("estimate", "--config", bad, "--debug")
    for command in (("run", "--quiet"), ("engines",), ("estimate", "--debug")):
        refused = whbench(*command, "--config", literal)
        assert refused.returncode == 2 and "${SNOWFLAKE_PRIVATE_KEY_PASSPHRASE}" in refused.stderr

    # The store, read as text column by column (its file is compressed, so also the raw bytes).
    store = tmp_path / "results" / "results.duckdb"
    con = duckdb.connect(str(store), read_only=True)
    stored = []
    for (table,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall():
        stored.append(str(con.execute(f'SELECT * FROM "{table}"').fetchall()))
    con.close()
    files = [p for p in (tmp_path / "results").rglob("*") if p.is_file()]
    assert any(p.suffix == ".parquet" for p in files) and any(
        p.name == "report.html" for p in files
    )
    haystacks = {
        "printed output": "\n".join(printed),
        "store tables": "\n".join(stored),
        **{str(p.relative_to(tmp_path)): p.read_bytes().decode("latin-1") for p in files},
    }
    for name, canary in CANARIES.items():
        for where, text in haystacks.items():
            assert canary not in text, f"{name} leaked into {where}"
    # The stored config keeps the references, and masks what was written literally.
    (config_json,) = (
        duckdb.connect(str(store), read_only=True)
        .execute("SELECT config FROM runs WHERE engine = 'redshift' LIMIT 1")
        .fetchone()
    )
    assert "${WHB_RS_PASSWORD}" in config_json
