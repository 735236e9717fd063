"""The MotherDuck engine on its own, on its local stand-in (a DuckDB file in place of `md:`):
namespaces of one database, lukewarm first attempts, sign-in from the environment, and the
one-line errors of the real path (which cannot reach the service from here)."""

from __future__ import annotations

import pytest

from harness.engines import engine_class
from harness.engines.credentials import (
    AccessToken,
    EnvironmentToken,
    Local,
    NoCredentials,
    Secret,
)
from harness.engines.duckdb import DuckDBEngine
from harness.engines.motherduck import MotherDuckEngine, MotherDuckSettings
from harness.errors import ConfigError, EngineError


@pytest.fixture
def engine(tmp_path):
    engine = MotherDuckEngine(MotherDuckSettings(local_stand_in=str(tmp_path / "md.duckdb")))
    engine.connect()
    yield engine
    engine.close()


def test_it_is_the_duckdb_engine_with_its_own_connection_namespace_and_bill():
    cls = engine_class("motherduck")
    assert cls is MotherDuckEngine and issubclass(cls, DuckDBEngine)
    assert cls.dialect == "duckdb" and cls.extra == "motherduck"
    assert cls.reference is False  # DuckDB stays the baseline
    assert cls.cold_method is None  # a service: lukewarm


def test_a_query_runs_and_reports_no_usage_it_did_not_measure(engine):
    result = engine.execute("SELECT 42 AS answer", 60)
    assert result.rows == [(42,)]
    assert result.engine_seconds is None and result.engine_query_id is None
    assert result.usage.bytes_scanned is None  # unknown, never 0


def test_first_attempts_are_lukewarm(engine):
    engine._con.execute("CREATE SCHEMA whb_md")
    engine.use("whb_md")
    assert engine.make_cold() is None


def test_describe_names_the_stand_in_and_the_duckling(tmp_path):
    settings = MotherDuckSettings(local_stand_in=str(tmp_path / "m.duckdb"), duckling="jumbo")
    engine = MotherDuckEngine(settings)
    engine.connect()
    try:
        described = engine.describe()
    finally:
        engine.close()
    assert described["database"] == "local stand-in" and described["duckling"] == "jumbo"
    assert "no sort keys" in described["tables"]  # DuckDB's tables, made as DuckDB's are
    assert MotherDuckEngine(MotherDuckSettings(database="bench")).describe()["database"] == (
        "md:bench"
    )


def test_clean_sees_only_this_databases_whb_schemas(engine, tmp_path):
    """An account attaches its other databases (and shares) to the same session: a whb_ schema
    in another database is neither listed nor dropped."""
    other = tmp_path / "other.duckdb"
    con = engine._con
    con.execute(f"ATTACH '{other}' AS other")
    con.execute("CREATE SCHEMA other.whb_theirs")
    con.execute("CREATE SCHEMA whb_ours")
    con.execute("CREATE TABLE whb_ours.t AS SELECT 1 AS x")
    assert engine.namespaces() == ["whb_ours"]
    assert engine.existing_tables("whb_ours") == {"t"}
    engine.drop("whb_ours")
    assert engine.namespaces() == []
    (left,) = con.execute(
        "SELECT count(*) FROM duckdb_schemas() WHERE database_name = 'other' "
        "AND schema_name = 'whb_theirs'"
    ).fetchone()
    assert left == 1
    with pytest.raises(EngineError, match="refusing to touch"):
        engine.drop("main")


def test_a_table_has_no_stored_size_to_report(engine, data_dir):
    from harness.datagen import ensure_data
    from harness.workloads import Renderer, get_workload

    tpch = get_workload("tpch")
    data = ensure_data(data_dir, tpch, 0.01)
    region = next(t for t in tpch.tables if t.name == "region")
    files = data.table_data("region")
    statements = Renderer(tpch, engine.dialect, 0.01).table_statements(
        region, engine.source_uris(files)
    )
    loaded = engine.load("whb_md", files, statements)
    assert loaded.rows == 5
    # MotherDuck reports storage per database (STORAGE_INFO), not per table: unknown.
    assert loaded.bytes_stored is None


# -- signing in ---------------------------------------------------------------------------------
def test_the_token_comes_from_the_environment_by_name_never_by_value(monkeypatch):
    monkeypatch.delenv("motherduck_token", raising=False)
    monkeypatch.delenv("MOTHERDUCK_TOKEN", raising=False)
    assert MotherDuckSettings().credentials() == NoCredentials()
    monkeypatch.setenv("MOTHERDUCK_TOKEN", "tok-secret-123")
    found = MotherDuckSettings().credentials()
    assert found == EnvironmentToken("MOTHERDUCK_TOKEN")
    assert "tok-secret-123" not in found.describe()
    monkeypatch.setenv("motherduck_token", "tok-lower-456")  # the docs' own spelling first
    assert MotherDuckSettings().credentials() == EnvironmentToken("motherduck_token")
    assert isinstance(MotherDuckSettings(token=Secret("x")).credentials(), AccessToken)
    assert MotherDuckSettings(local_stand_in="x.duckdb").credentials() == Local()


def test_a_token_setting_is_masked(tmp_path):
    from harness.config import parse_config

    settings = parse_config(
        {"engines": {"motherduck": {"token": "${WHB_TEST_MD_TOKEN:-tok-default-789}"}}}
    ).engines["motherduck"]
    assert isinstance(settings.token, Secret) and "tok-default-789" not in repr(settings)


def test_no_token_is_one_line_naming_the_variables(monkeypatch):
    monkeypatch.setenv("motherduck_token", "")
    monkeypatch.setenv("MOTHERDUCK_TOKEN", "")
    with pytest.raises(EngineError, match=r"set motherduck_token \(or MOTHERDUCK_TOKEN\)") as info:
        MotherDuckEngine(MotherDuckSettings()).connect()
    assert "\n" not in str(info.value)


def test_a_wrong_duckling_or_a_pulse_cooldown_is_refused():
    with pytest.raises(ConfigError, match="'huge' is no Duckling size"):
        MotherDuckSettings(duckling="huge")
    with pytest.raises(ConfigError, match="not configurable"):
        MotherDuckSettings(duckling="pulse", cooldown_seconds=120)


def test_the_real_path_offline_is_one_line_without_the_token(make_config, whbench):
    """`md:` needs DuckDB's motherduck extension, downloaded at first use: here the download
    fails (or, with network, the fake token is refused). Either way: one line, no traceback,
    and the token never shown."""
    config = make_config(engines={"motherduck": {"duckling": "standard"}})
    result = whbench(
        "run",
        "--config",
        config,
        "-e",
        "motherduck",
        env={"motherduck_token": "", "MOTHERDUCK_TOKEN": "tok-fake-0123456789"},
    )
    assert result.code != 0
    assert "Traceback" not in result.stderr and "tok-fake-0123456789" not in result.stderr
    assert "motherduck" in result.stderr.lower()


def test_whbench_engines_names_the_extra(whbench, make_config):
    result = whbench("engines", "--json", "--config", make_config())
    assert result.code == 0, result.stderr
    assert "motherduck" in result.stdout


def test_clean_and_estimate_on_the_stand_in(make_config, whbench, workdir):
    config = make_config(
        engines={"motherduck": {"local_stand_in": str(workdir / "md.duckdb"), "duckling": "giga"}}
    )
    listed = whbench("clean", "--config", config, "-e", "motherduck")
    assert listed.code == 0, listed.stderr
    estimated = whbench("estimate", "--config", config, "-e", "motherduck", "--json")
    assert estimated.code == 0, estimated.stderr
    # No bundled Duckling rate: the estimate is unknown, not a guess.
    assert '"total": null' in estimated.stdout
