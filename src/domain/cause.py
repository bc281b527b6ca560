"""Who caused an event: recorded on every event so auditors can answer "who did what"."""

from dataclasses import asdict, dataclass


@dataclass(frozen=True, kw_only=True)
class Cause:
    """The principal, channel, request id and correlation id of the command."""

    principal: str
    channel: str
    request_id: str
    correlation_id: str

    def as_metadata(self) -> dict[str, str]:
        return asdict(self)
