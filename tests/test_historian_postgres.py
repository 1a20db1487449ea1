"""Historian data from a real database (issue 13): PostgreSQL (Debian's server, started here for the tests)
through SQLAlchemy, `twin ingest postgresql://...`, and a run recovered through it."""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile

import numpy as np
import pandas as pd
import pytest
from conftest import reference_with_cells

import twin
from twin.cli import main
from twin.config import default_config_path
from twin.historian import HistorianError, ingest, load_tag_map

TAG_MAP = default_config_path().parent / "historian" / "reference.toml"


def _server_binaries() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None

# its tests share a module-wide fixture: built once, on one worker of `pytest -n --dist loadgroup`
pytestmark = pytest.mark.xdist_group("test_historian_postgres")


@pytest.fixture(scope="module")
def postgres():
    """A throw-away PostgreSQL server on a Unix socket in a temporary directory; yields its URL."""
    bin_dir = _server_binaries()
    if bin_dir is None:
        if os.environ.get("TWIN_REQUIRE_POSTGRES"):
            pytest.fail("TWIN_REQUIRE_POSTGRES is set but no PostgreSQL server binaries were found")
        pytest.skip("no PostgreSQL server binaries (Debian: apt-get install postgresql)")
    home = tempfile.mkdtemp(prefix="twin-pg-")
    as_user: list[str] = []
    if os.geteuid() == 0:                       # the server refuses to run as root: run it as postgres
        import pwd

        user = pwd.getpwnam("postgres")
        os.chown(home, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    os.chmod(home, 0o755)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = os.path.join(home, "data")

    def pg(*args: str) -> None:
        subprocess.run([*as_user, *args], check=True, capture_output=True, timeout=120)

    pg(f"{bin_dir}/initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync")
    pg(f"{bin_dir}/pg_ctl", "-D", data, "-w", "-l", os.path.join(home, "log"),
       "-o", f"-k {home} -p {port} -c listen_addresses='' -c fsync=off", "start")
    try:
        yield f"postgresql://postgres@/postgres?host={home}&port={port}"
    finally:
        pg(f"{bin_dir}/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(home, ignore_errors=True)


def load_table(url: str, rows: pd.DataFrame, table: str = "historian") -> str:
    """Rows (timestamp, tag, value, quality) into a table as a plant historian keeps them; the table's URL."""
    import sqlalchemy as sa

    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    meta = sa.MetaData()
    sa.Table(table, meta, sa.Column("id", sa.Integer, primary_key=True), sa.Column("timestamp", sa.DateTime(True)),
             sa.Column("tag", sa.Text), sa.Column("value", sa.Text), sa.Column("quality", sa.Text))
    with engine.begin() as c:
        meta.drop_all(c)
        meta.create_all(c)
        c.execute(meta.tables[table].insert(), [
            {"id": i + 1, "timestamp": pd.Timestamp(r.timestamp).to_pydatetime(), "tag": r.tag,
             "value": None if r.value == "" else r.value, "quality": r.quality}
            for i, r in enumerate(rows.itertuples())])
    engine.dispose()
    return f"{url}&table={table}"


ROWS = pd.DataFrame([("2027-01-01T00:00:05Z", "PL1.P001.VOLT", "4.21", "good"),
                     ("2027-01-01T00:05:00Z", "PL1.P001.VOLT", "4.23", "good"),
                     ("2027-01-01T00:07:00Z", "PL1.P001.VOLT", "I/O Timeout", "bad"),
                     ("2027-01-01T00:08:00Z", "PL1.P001.VOLT", "", "good"),
                     ("2027-01-01T00:12:00Z", "PL2.AMPS", "500.1", "good"),
                     ("2027-01-01T00:12:00Z", "XX.UNKNOWN", "1", "good")],
                    columns=["timestamp", "tag", "value", "quality"])


def test_a_table_reads_as_its_export_does(tmp_path, postgres):
    url = load_table(postgres, ROWS)
    csv = tmp_path / "export.csv"
    ROWS.to_csv(csv, index=False)
    from_db, report_db = ingest([url], load_tag_map(TAG_MAP))
    from_csv, report_csv = ingest([csv], load_tag_map(TAG_MAP))
    for name in ("cell_voltage", "line_current"):
        np.testing.assert_array_equal(from_db[name].values, from_csv[name].values)
    cols = ["tag", "rows", "status_strings", "blank", "kept", "status"]
    pd.testing.assert_frame_equal(report_db[cols], report_csv[cols])
    assert "postgres" in from_db.attrs["exports"]


def test_database_errors_name_the_source(postgres):
    with pytest.raises(HistorianError, match=r"no table 'nothing'"):
        ingest([f"{postgres}&table=nothing"], load_tag_map(TAG_MAP))
    bad = load_table(postgres, pd.DataFrame([("2027-01-01T00:00:00Z", "PL2.AMPS", "5OO", "good")],
                                            columns=ROWS.columns), table="bad")
    with pytest.raises(HistorianError, match=r"row 1, column 'value': '5OO' is not a number"):
        ingest([bad], load_tag_map(TAG_MAP))
    with pytest.raises(HistorianError, match=r"cannot read table"):
        ingest([postgres.replace("port=", "port=1")], load_tag_map(TAG_MAP))


def test_a_run_recovered_through_postgresql(tmp_path, postgres, capsys):
    """A twin run exported as a historian keeps it (noise, compression, gaps, bad flags), loaded into PostgreSQL,
    ingested with `twin ingest postgresql://...`: the voltages come back within the noise, the feed log whole."""
    from twin.synthetic import Defects, historian_export

    twin.run(reference_with_cells(2, output_interval_s=600.0), tmp_path / "run.nc", days=1)
    truth = twin.open_results(tmp_path / "run.nc", load=True)
    export = historian_export(tmp_path / "run.nc", tmp_path / "export.csv", Defects(seed=3))
    url = load_table(postgres, pd.read_csv(export, dtype=str, keep_default_na=False), table="plant")
    small_map = tmp_path / "tags.toml"
    small_map.write_text(TAG_MAP.read_text().replace("cells = 720", "cells = 4"))
    out = tmp_path / "data.nc"
    assert main(["ingest", url, "--tags", str(small_map), "--out", str(out), "--start", "2027-01-01T00:00:00"]) == 0
    assert "Traceback" not in capsys.readouterr().err
    import xarray as xr

    data = xr.open_dataset(out, engine="h5netcdf").load()
    for k in range(4):
        got, want = data.cell_voltage.sel(cell=k).values, truth.cell_voltage.sel(cell=k).values
        present = ~np.isnan(got)
        assert present.mean() > 0.5 and np.all(np.abs(got[present] - want[present]) < 0.03)
    fed = data.sample_value.values[data.sample_variable.values == "alumina_fed"].sum()
    assert fed == pytest.approx(float(truth.alumina_fed.sum(dtype=float)), rel=1e-9)


def test_no_password_in_a_url_is_printed_or_stored(postgres):
    """Every form of a password in the URL (``?password=``, ``user:pw@`` and a password with an unencoded '@')
    stays out of the messages and the output's attributes (the server trusts its socket: it takes any)."""
    secret = "Sup3rSecret"
    url = load_table(postgres, ROWS) + f"&password={secret}"
    ds, _ = ingest([url], load_tag_map(TAG_MAP))
    assert secret not in ds.attrs["exports"] and "password=***" in ds.attrs["exports"]
    with pytest.raises(HistorianError) as err:
        ingest([f"{postgres}&table=nothing&password={secret}"], load_tag_map(TAG_MAP))
    assert secret not in str(err.value) and "no table 'nothing'" in str(err.value)
    with pytest.raises(HistorianError) as err:
        ingest([postgres.replace("postgres@", f"postgres:{secret}@")
                .replace("port=", "port=1") + "&table=historian"], load_tag_map(TAG_MAP))
    assert secret not in str(err.value) and "cannot read table" in str(err.value)
    with pytest.raises(HistorianError) as err:
        ingest(["postgresql://postgres:Sup3r@Secret@localhost/postgres"], load_tag_map(TAG_MAP))
    assert "Sup3r" not in str(err.value) and "Secret" not in str(err.value).replace("secret", "")
    assert "%40" in str(err.value)
