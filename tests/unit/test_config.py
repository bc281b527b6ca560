"""One validated configuration: every BERTH_* variable, its errors naming it, secrets masked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from berth import config

REPO = Path(__file__).resolve().parents[2]
BERTH = Path(sys.executable).with_name("berth")


def test_the_defaults_need_no_environment_at_all() -> None:
    settings = config.load({})

    assert settings.projection_page_size == 5000
    assert settings.database_url == ""
    assert settings.embedded is False


def test_values_are_read_by_their_type() -> None:
    settings = config.load(
        {
            "BERTH_READ_POOL_SIZE": " 12 ",
            "BERTH_DB_STATEMENT_TIMEOUT": "2.5",
            "BERTH_EMBEDDED": "yes",
            "BERTH_DATA_DIR": "/srv/berth",
            "BERTH_LOG_LEVEL": "debug",
            "BERTH_KAFKA_DELIVERY_TIMEOUT_MS": "",
        }
    )

    assert settings.read_pool_size == 12
    assert settings.db_statement_timeout == 2.5
    assert settings.embedded is True
    assert settings.data_dir == Path("/srv/berth")
    assert settings.log_level == "DEBUG"
    assert settings.kafka_delivery_timeout_ms is None


@pytest.mark.parametrize(
    ("name", "value", "accepts"),
    [
        ("BERTH_PROJECTION_PAGE_SIZE", "lots", "expected a whole number"),
        ("BERTH_PROJECTION_PAGE_SIZE", "0", "of at least 1"),
        ("BERTH_PORT", "70000", "from 1 to 65535"),
        ("BERTH_DB_STATEMENT_TIMEOUT", "nan", "a finite number"),
        ("BERTH_EMBEDDED", "maybe", "true/false"),
        ("BERTH_LOG_LEVEL", "LOUD", "one of DEBUG, INFO"),
        ("BERTH_KAFKA_TOPIC_PREFIX", "a\x00b", "without control characters"),
    ],
)
def test_a_bad_value_is_refused_naming_its_variable_and_what_it_accepts(
    name: str, value: str, accepts: str
) -> None:
    with pytest.raises(config.ConfigError) as refused:
        config.load({name: value})

    assert str(refused.value).startswith(f"invalid settings: {name}={value!r}: ")
    assert accepts in str(refused.value)


def test_every_bad_value_is_reported_at_once() -> None:
    with pytest.raises(config.ConfigError) as refused:
        config.load({"BERTH_PORT": "x", "BERTH_READ_POOL_SIZE": "-1"})

    assert [problem.split("=")[0] for problem in refused.value.problems] == [
        "BERTH_READ_POOL_SIZE",
        "BERTH_PORT",
    ]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://berth:s3cret@db:5432/berth", "postgresql://berth:****@db:5432/berth"),
        ("postgresql://berth@db/berth", "postgresql://berth@db/berth"),
        (
            "host=db user=berth password=s3cret dbname=x",
            "host=db user=berth password=**** dbname=x",
        ),
    ],
)
def test_passwords_are_masked(url: str, shown: str) -> None:
    assert config.mask_url(url) == shown
    masked = config.load({"BERTH_MIGRATE_DATABASE_URL": url}).masked()
    assert masked["BERTH_MIGRATE_DATABASE_URL"] == shown


def test_the_readme_has_a_row_for_every_variable() -> None:
    readme = (REPO / "README.md").read_text()
    missing = [row for row in config.table().splitlines()[2:] if row not in readme]

    assert not missing, (
        "README's settings table is behind berth.config; its rows come from"
        " `python -c 'from berth import config; print(config.table())'`: " + "\n".join(missing)
    )


def test_berth_config_prints_the_effective_settings_with_secrets_masked(tmp_path: Path) -> None:
    env = dict(os.environ, BERTH_DATABASE_URL="postgresql://app:hunter2@db/berth")
    env["BERTH_PROJECTION_PAGE_SIZE"] = "250"

    out = subprocess.run(
        [BERTH, "config"], cwd=tmp_path, env=env, capture_output=True, text=True, check=True
    ).stdout

    assert "hunter2" not in out
    assert '"BERTH_DATABASE_URL": "postgresql://app:****@db/berth"' in out
    assert '"BERTH_PROJECTION_PAGE_SIZE": 250' in out


def test_a_bad_setting_stops_any_command_with_its_name(tmp_path: Path) -> None:
    env = dict(os.environ, BERTH_PROJECTION_PAGE_SIZE="lots")

    run = subprocess.run(
        [BERTH, "migrate"], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )

    assert run.returncode == 1
    assert run.stderr == (
        "berth: invalid settings: BERTH_PROJECTION_PAGE_SIZE='lots': expected a whole number\n"
    )


def test_without_a_database_url_the_cli_says_which_database_and_starts_none(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BERTH_")}

    run = subprocess.run(
        [BERTH, "migrate"], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )

    assert run.returncode == 1
    assert len(run.stderr.splitlines()) == 1
    assert "BERTH_DATABASE_URL is not set" in run.stderr
    assert "--embedded" in run.stderr
    assert not (tmp_path / "var").exists()


@pytest.mark.parametrize(
    "command",
    [["apikey", "list"], ["booking", "show", "7ba572d8-0663-493d-ad07-cc67f4d4f209"]],
    ids=["psycopg", "eventsourcing"],
)
def test_an_unreachable_database_is_one_line_naming_it_masked(
    tmp_path: Path, command: list[str]
) -> None:
    env = dict(os.environ, BERTH_DATABASE_URL="postgresql://app:hunter2@127.0.0.1:9/berth")
    env["BERTH_DB_CONNECT_TIMEOUT"] = "2"

    run = subprocess.run(
        [BERTH, *command], cwd=tmp_path, env=env, capture_output=True, text=True,
        check=False,
    )  # fmt: skip

    assert run.returncode == 1
    assert len(run.stderr.splitlines()) == 1, run.stderr
    assert run.stderr.startswith(
        "berth: cannot use the database at postgresql://app:****@127.0.0.1:9/berth: "
    )
