"""The appliance: create_app() for gunicorn ('app:create_app()') and the command line.

Config layers, later wins: api.settings.DefaultConfig, the file named by AWXH_SETTINGS_FILE,
AWXH_* environment variables (AWXH_DATA_DIR=/var/lib/awxh), then the `config` argument (tests).
"""
from __future__ import annotations

import json
import sys

import click
from flask import Flask, send_from_directory

import api
import api.wiring
import store.db
from api import request_guards
from api.auditlog import record_mutations
from api.extensions import Api
from api.logging_setup import configure_logging
from store.crypto import SecretBox, load_keys


def create_app(config: object | dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_object("api.settings.DefaultConfig")
    app.config.from_envvar("AWXH_SETTINGS_FILE", silent=True)
    app.config.from_prefixed_env(prefix="AWXH")
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    configure_logging(app)
    store.db.init_app(app)
    app.extensions["secret_box"] = SecretBox(load_keys(app.config["DATA_DIR"], app.config["ENCRYPTION_KEY"]))
    api.wiring.init_app(app)
    rest = Api(app)
    api.register_blueprints(rest)
    record_mutations(app)
    request_guards.install(app)
    _disk_full_is_507(app, rest)
    _serve_swagger_assets(app)
    return app


def _disk_full_is_507(app: Flask, rest: Api) -> None:
    """An unexpected error is the JSON 500; a full disk (the database cannot write) is a 507 that says so."""
    def server_error(error):
        if store.db.disk_full(getattr(error, "original_exception", None)):
            return {"code": 507, "status": "Insufficient Storage",
                    "message": "The appliance's disk is full: free space in its data directory, then retry."}, 507
        return rest.handle_http_exception(error)
    app.register_error_handler(500, server_error)


def _serve_swagger_assets(app: Flask) -> None:
    """Swagger UI's JS/CSS come from the swagger-ui-bundle package: the appliance may be offline."""
    import swagger_ui_bundle

    @app.route("/api/v1/docs/static/<path:filename>")
    def swagger_static(filename):
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)


@click.group()
def cli() -> None:
    """Allworx hardening appliance."""


@cli.command("create-token")
@click.option("--name", required=True, help="A name that says who uses the token")
@click.option("--scope", required=True, type=click.Choice(["read", "audit", "remediate", "admin"]))
def create_token(name: str, scope: str) -> None:
    """Create an API token and print it (shown once)."""
    from sqlalchemy.exc import IntegrityError

    from api.auth import new_token
    app = create_app()
    with app.app_context(), store.db.get_db().session() as sess:
        _row, plaintext = new_token(sess, name, scope)
        try:
            sess.commit()
        except IntegrityError:
            raise click.UsageError(f"a token named {name!r} already exists") from None
    click.echo(plaintext)


@cli.command("openapi-write")
@click.argument("path", default="openapi/openapi.json")
def openapi_write(path: str) -> None:
    """Write the live OpenAPI spec to PATH (the committed copy)."""
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(openapi_text(create_app({"DATA_DIR": _scratch_dir()})))


def openapi_text(app: Flask) -> str:
    with app.app_context():
        spec = app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    return json.dumps(spec, indent=2, sort_keys=True) + "\n"


def _scratch_dir() -> str:
    import tempfile
    return tempfile.mkdtemp(prefix="awxh-spec-")


@cli.command("rotate-key")
def rotate_key() -> None:
    """Add a new encryption key, re-encrypt every secret with it, then drop the old keys."""
    from store.crypto import add_new_key, drop_old_keys
    from store.secrets import rotate_all
    app = create_app()
    if app.config["ENCRYPTION_KEY"]:
        raise click.UsageError("the key comes from AWXH_ENCRYPTION_KEY: put the new key first in that "
                               "comma-separated list, run rotate-key, then remove the old one")
    data_dir = app.config["DATA_DIR"]
    add_new_key(data_dir)
    box = SecretBox(load_keys(data_dir))
    with app.app_context(), store.db.get_db().session() as sess:
        count = rotate_all(sess, box)
        sess.commit()
    drop_old_keys(data_dir)
    click.echo(f"re-encrypted {count} credential set(s) with the new key")


@cli.command("check")
@click.option("--site", "site_ref", required=True, help="Site id or name")
@click.option("--run", is_flag=True, help="Run a fresh audit first and wait for it")
@click.option("--nable", is_flag=True, help="Add the N-able custom code (nable_code=1000 + the code) to the line")
@click.option("--max-age-hours", type=float, default=None, help="UNKNOWN when the last audit is older")
@click.option("--fail-on-new", is_flag=True, help="Alert only on failures new since the previous audit")
def check(site_ref: str, run: bool, nable: bool, max_age_hours: float | None, fail_on_new: bool) -> None:
    """Print one summary line and exit 0/1/2/3 (OK/WARNING/CRITICAL/UNKNOWN) like a Nagios plugin.

    Nothing goes to stderr (library logs and warnings are held back) unless the check itself fails."""
    from api.logging_setup import mask
    from hardening.outputs.check_cli import check_site, quiet_run
    line, code, err = quiet_run(lambda: check_site(
        create_app({"BACKGROUND_DUTIES": False, "AUDITS_SYNCHRONOUS": True}), site_ref, run, nable, max_age_hours,
        fail_on_new), nable=nable, mask=mask)
    click.echo(line)
    if err:
        click.echo(err, err=True, nl=False)
    sys.exit(code)


@cli.command("demo")
@click.option("--preset", default="insecure", type=click.Choice(["insecure", "secure"]),
              help="Which simulated site to audit")
def demo(preset: str) -> None:
    """Audit a simulated Allworx site with the appliance under gunicorn and print a summary."""
    from simulator.demo import run
    sys.exit(run(preset))


@cli.command("analyze-config")
@click.option("--platform", default=None, help="netmiko device_type (cisco_ios, linux, ...); detected if left out")
@click.option("--server-lan-ip", default=None, help="The Allworx server's LAN address")
@click.option("--server-wan-ip", default=None, help="The Allworx server's WAN address")
@click.option("--phone-ip", "phone_ips", multiple=True, help="A phone's address (repeatable)")
@click.option("--px-ip", "px_ips", multiple=True, help="A Px Expander's address (repeatable)")
@click.option("--allowed-sip-source", "allowed_sip_sources", multiple=True,
              help="An address/CIDR allowed to reach SIP/RTP forwards (repeatable)")
@click.argument("file", type=click.File("r", encoding="utf-8", errors="replace"))
def analyze_config(file, platform, **addresses) -> None:
    """Print forwards, VLANs and findings for a router configuration FILE ('-' = stdin) as JSON.

    FILE is one configuration or command output, or a JSON object mapping each command to its output.
    Exit 0 on success, 2 with a message on bad input.
    """
    from firewall.model import ParseError
    from firewall.parsers import PLATFORMS, UnsupportedPlatform
    from hardening.engine.analyze import parse_and_analyze
    if platform and platform not in PLATFORMS:
        raise click.BadParameter(f"unknown platform; supported: {', '.join(PLATFORMS)}", param_hint="--platform")
    text = file.read()
    try:
        result = parse_and_analyze(_outputs_map(text), platform, **addresses)
    except (ParseError, UnsupportedPlatform, ValueError) as exc:
        raise click.UsageError(str(exc)) from None
    detection = result["detection"]
    if detection["detected"]:             # stderr: stdout stays the JSON document
        click.echo(f"detected platform {detection['platform']} (confidence {detection['confidence']}); "
                   "name it with --platform if that is wrong", err=True)
    click.echo(json.dumps(result, indent=2))


def _outputs_map(text: str) -> str | dict[str, str]:
    """A JSON object whose values are all strings is a command -> output map; anything else is one text."""
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            return text
        if isinstance(data, dict) and data and all(isinstance(v, str) for v in data.values()):
            return data
    return text


if __name__ == "__main__":
    sys.exit(cli())
