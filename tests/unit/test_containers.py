"""The Dockerfile and compose.yaml, checked without a container runtime (this machine's
docker client has no daemon): what they copy exists, what they run is a Berth command, the
compose file parses, names PostgreSQL, a Kafka-compatible broker and Berth, and sets only
settings Berth knows."""

from __future__ import annotations

import configparser
import json
import re
from pathlib import Path

import yaml

from berth import cli, config

REPO = Path(__file__).resolve().parents[2]


def instructions() -> list[tuple[str, str]]:
    text = (REPO / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (word.upper(), rest.strip())
        for word, _, rest in (line.partition(" ") for line in lines if line and line[0] != "#")
    ]


def test_the_dockerfile_copies_what_the_checkout_has_and_runs_berth_up() -> None:
    steps = instructions()
    copies = [rest.split()[:-1] for kind, rest in steps if kind == "COPY" and "--from" not in rest]
    for sources in copies:
        for source in sources:
            assert (REPO / source).exists(), f"the Dockerfile copies {source}, which is missing"
    ignored = (REPO / ".dockerignore").read_text().split()
    assert not {source for sources in copies for source in sources} & set(ignored)

    entrypoint = json.loads(dict(steps)["ENTRYPOINT"])
    command = json.loads(dict(steps)["CMD"])
    setup = configparser.ConfigParser()
    setup.read(REPO / "setup.cfg")
    scripts = setup["options.entry_points"]["console_scripts"]
    assert entrypoint == ["berth"] and "berth = berth.cli:main" in scripts
    assert cli.build_parser().parse_args(command).run is cli.do_up
    python = re.search(r"python:(\d+\.\d+)", dict(steps)["FROM"])
    assert python is not None
    required = setup["options"]["python_requires"].removeprefix(">=")
    assert tuple(map(int, python.group(1).split("."))) >= tuple(map(int, required.split(".")))
    env = dict(re.findall(r"(BERTH_\w+)=(\S+)", dict(steps)["ENV"]))
    config.load(env)  # every setting the image sets is valid
    assert env["BERTH_HOST"] == "0.0.0.0"  # reachable from outside the container


def test_the_compose_file_runs_berth_against_postgresql_and_a_kafka_broker() -> None:
    compose = yaml.safe_load((REPO / "compose.yaml").read_text())
    services = compose["services"]

    assert {"postgres", "redpanda", "berth"} <= set(services)
    assert services["postgres"]["image"].startswith("postgres:")
    assert "redpanda" in services["redpanda"]["image"]
    berth = services["berth"]
    assert berth["build"] == "."
    assert set(berth["depends_on"]) == {"postgres", "redpanda"}
    env = berth["environment"]
    known = {config.variable(field.name) for field in config.Config.fields()}
    assert set(env) <= known, set(env) - known
    settings = config.load(env)
    assert "@postgres:5432/" in settings.database_url
    assert settings.kafka_bootstrap.split(":")[0] == "redpanda"
    assert cli.build_parser().parse_args(berth["command"]).run is cli.do_up
    for mount in services["postgres"]["volumes"]:
        source = mount.split(":")[0]
        if source.startswith("./"):
            assert (REPO / source).is_file(), source
    published = [int(port.split(":")[-1]) for port in berth["ports"] if "-" not in port]
    assert settings.port in published


def test_every_worker_of_the_procfile_has_its_metrics_port_exposed_and_published() -> None:
    processes = cli.procfile_processes(REPO / "Procfile")
    compose = yaml.safe_load((REPO / "compose.yaml").read_text())
    berth = compose["services"]["berth"]
    first = int(berth["environment"]["BERTH_METRICS_PORT"])
    needed = {
        int(port) for env in cli.metrics_ports(processes, first).values() for port in env.values()
    }

    def ranges(specs: list[str]) -> set[int]:
        ports: set[int] = set()
        for spec in specs:
            low, _, high = spec.split(":")[-1].partition("-")
            ports |= set(range(int(low), int(high or low) + 1))
        return ports

    exposed = ranges(dict(instructions())["EXPOSE"].split())
    assert needed <= exposed, sorted(needed - exposed)
    assert needed <= ranges(berth["ports"]), sorted(needed - ranges(berth["ports"]))
