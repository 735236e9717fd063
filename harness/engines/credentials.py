"""How an engine signs in, as types: each engine's settings say which one applies
(`Settings.credentials()`, first match wins), the engine connects by matching on it, and
`whbench engines` describes it from the type alone.

A secret is a type too: a settings field annotated `Secret` is masked wherever the config is
recorded (the store, exports, the report), whatever the field is called. A description names
settings that are not secret by type (a connection's name, a key file's path); one that came
from a ${…} reference is shown as that reference (harness.errors.scrub), as every such value is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.errors import ConfigError, first_line, scrub
from harness.paths import KIB, read_text

KEY_FILE_LIMIT = 64 * KIB  # a private key or a credentials file: a few KiB


class Secret(str):
    """A value that is never shown, stored or logged (a password, a token, a passphrase)."""

    def __repr__(self) -> str:
        return "Secret('***')"


@dataclass(frozen=True)
class Credentials:
    def describe(self) -> str:
        """How the engine will sign in, in words, never a secret."""
        raise NotImplementedError


@dataclass(frozen=True)
class Password(Credentials):
    password: Secret

    def describe(self) -> str:
        return "password"


@dataclass(frozen=True)
class KeyPair(Credentials):
    private_key_file: str
    passphrase: Secret | None = None

    def describe(self) -> str:
        return "key pair"

    def private_key(self, setting: str) -> bytes:
        """The private key as unencrypted PKCS#8 DER (what a driver signs with), read here from
        its PEM file, bounded, so that a missing, unreadable or wrong file is one line naming
        `setting` (engines.snowflake.private_key_file), not a driver's traceback."""
        try:
            path = Path(self.private_key_file).expanduser()
        except RuntimeError:  # ~user of no such user
            raise ConfigError(
                f"{setting}: private key file {self.private_key_file} not found; "
                "give an existing file"
            ) from None
        try:
            pem = read_text(path, "private key file", ConfigError, KEY_FILE_LIMIT)
        except ConfigError as exc:  # missing, not a file, too large: says what to give
            raise ConfigError(f"{setting}: {exc}") from None
        # cryptography comes with the drivers that sign in with a key pair (snowflake).
        from cryptography.hazmat.primitives import serialization

        password = self.passphrase.encode() if self.passphrase else None
        try:
            key = serialization.load_pem_private_key(pem.encode(), password=password)
        except (ValueError, TypeError) as exc:  # not a PEM key, or the passphrase does not fit
            raise ConfigError(
                f"{setting}: cannot read the private key in {path} ({first_line(exc)}); give "
                "the PEM key file and, for an encrypted one, its passphrase"
            ) from None
        return key.private_bytes(
            encoding=serialization.Encoding.DER,
            format=serialization.PrivateFormat.PKCS8,
            encryption_algorithm=serialization.NoEncryption(),
        )


@dataclass(frozen=True)
class OAuthToken(Credentials):
    token: Secret

    def describe(self) -> str:
        return "OAuth token"


@dataclass(frozen=True)
class NamedConnection(Credentials):
    """A connection defined in the driver's own file (Snowflake's connections.toml)."""

    name: str

    def describe(self) -> str:
        return scrub(f"named connection {self.name!r} (connections.toml)")


@dataclass(frozen=True)
class Authenticator(Credentials):
    """The driver signs in its own way (Snowflake: externalbrowser, SSO)."""

    name: str

    def describe(self) -> str:
        return scrub(f"authenticator {self.name}")


@dataclass(frozen=True)
class IAM(Credentials):
    """Temporary credentials from an AWS profile or role."""

    target: str  # "cluster" or "Serverless workgroup"

    def describe(self) -> str:
        return f"IAM temporary credentials ({self.target})"  # a fixed word, never a setting


@dataclass(frozen=True)
class CredentialsFile(Credentials):
    """A Google credentials file: external_account (keyless) or a service-account key."""

    path: str

    def describe(self) -> str:
        return scrub(f"credentials file {self.path}")

    def kind(self, setting: str) -> str | None:
        """The file's `type` ("external_account", "service_account"), read here, bounded, so
        that a missing or wrong file is one line naming `setting`, and /dev/zero never hangs."""
        import json

        try:
            text = read_text(
                Path(self.path).expanduser(), "credentials file", ConfigError, KEY_FILE_LIMIT
            )
            info = json.loads(text)
        except ConfigError as exc:
            raise ConfigError(f"{setting}: {exc}") from None
        except (RuntimeError, ValueError):  # ~user of no such user; not JSON
            raise ConfigError(
                f"{setting}: {self.path} is not a Google credentials file (JSON); give the "
                "file `gcloud iam workload-identity-pools create-cred-config` wrote"
            ) from None
        return info.get("type") if isinstance(info, dict) else None


@dataclass(frozen=True)
class ApplicationDefault(Credentials):
    def describe(self) -> str:
        return "Application Default Credentials"


@dataclass(frozen=True)
class AccessToken(Credentials):
    """A service's access token given in the config, through a ${VAR} or ${file:PATH}
    reference (MotherDuck)."""

    token: Secret

    def describe(self) -> str:
        return "access token (from the config's reference)"


@dataclass(frozen=True)
class EnvironmentToken(Credentials):
    """An access token read from an environment variable the vendor names (MotherDuck's
    motherduck_token)."""

    variable: str

    def describe(self) -> str:
        return f"access token from ${self.variable}"  # the variable's name, never its value


@dataclass(frozen=True)
class OAuthClient(Credentials):
    """OAuth machine-to-machine: a service principal's client id and secret, exchanged for
    short-lived tokens by the vendor's SDK (Databricks)."""

    client_id: str
    client_secret: Secret

    def describe(self) -> str:
        return "OAuth machine-to-machine (service principal)"


@dataclass(frozen=True)
class Profile(Credentials):
    """A named profile in the vendor's CLI config file (Databricks' ~/.databrickscfg), which
    says how to sign in (a token, OAuth, a cloud login)."""

    name: str
    file: str

    def describe(self) -> str:
        return scrub(f"profile {self.name!r} ({self.file})")


@dataclass(frozen=True)
class Anonymous(Credentials):
    """No sign-in: a local stand-in."""

    def describe(self) -> str:
        return "anonymous (local stand-in)"


@dataclass(frozen=True)
class NoCredentials(Credentials):
    def describe(self) -> str:
        return "none configured"


@dataclass(frozen=True)
class Local(Credentials):
    """Nothing to sign in to: the engine runs in this process."""

    def describe(self) -> str:
        return "none (runs in this process)"


def secret_fields(settings_class: type) -> set[str]:
    """The fields of an engine's settings typed Secret (or Secret | None)."""
    import typing

    hints = typing.get_type_hints(settings_class)
    return {
        name for name, hint in hints.items() if hint is Secret or Secret in typing.get_args(hint)
    }
