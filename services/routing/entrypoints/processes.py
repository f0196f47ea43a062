"""Routing's HTTP API for designers: deploying, proving and activating versions of a process."""

from __future__ import annotations

from dataclasses import asdict

from flask import Response, current_app, request
from flask.views import MethodView

from services.common import i18n
from services.common.errors import InvalidInput, NotFound
from services.common.identity.model import Role
from services.common.web import Blueprint, current_identity, require_roles
from services.common.web.api import body_limit
from services.routing.domain.commands import ActivateProcess, DeployProcess, ProveProcess
from services.routing.engine.problems import language_of
from services.routing.entrypoints import schemas
from services.routing.service_layer.handlers import Deployment

# A diagram with its drawing and DMN tables outgrows the default body limit (the mall's is ~160 KB).
DEPLOY_BODY_BYTES = 4 * 1024 * 1024

processes = Blueprint(
    "processes", __name__, url_prefix="/processes", description="Deployed versions of the complaint diagram."
)


def _routing():
    return current_app.extensions["routing"]


def _deploy_command(data: dict) -> DeployProcess:
    """A deploy (or proof) of the files in `data`; the problems are told in the request's language."""
    return DeployProcess(
        data["bpmn"],
        data["dmn"],
        current_identity().subject,
        data.get("note"),
        data["bpmn_name"],
        data["forms"],
        language_of(request.headers.get("Accept-Language")),
    )


def _version_out(version, active: bool) -> dict:
    return {
        **asdict(version),
        "dmn_files": sorted(version.dmn_xml),
        "form_files": sorted(version.form_schemas),
        "called_processes": sorted(version.called_bpmn),
        "active": active,
        "handles_complaints": version.process_key == _routing().context.process_key,
    }


def _deploy_message(deployment: Deployment, language: str) -> str:
    """What the deploy did, in the request's language (as the proof's summary beside it)."""
    return i18n.message(_what_deploying_did(deployment), language)


def _what_deploying_did(deployment: Deployment) -> str:
    version = deployment.version
    if deployment.created and version.process_key != _routing().context.process_key:
        return (
            f"deployed as version {version.version} of process {version.process_key!r}; it starts no "
            f"complaint cases: those start the active version of {_routing().context.process_key!r} "
            "(set the diagram's process id to it to deploy a new complaint version)"
        )
    if deployment.created:
        return f"deployed as version {version.version}, now active"
    if deployment.active:
        return f"the same files as version {version.version}, which is active: nothing changed"
    return (
        f"the same files as version {version.version}, which is not active: activate it with "
        f"POST /processes/{version.process_key}/{version.version}/activate"
    )


@processes.route("")
class ProcessCollection(MethodView):
    @require_roles(Role.PROCESS_DESIGNER)
    @body_limit(DEPLOY_BODY_BYTES)
    @processes.arguments(schemas.DeployIn())
    @processes.response(201, schemas.DeployOut)
    @processes.alt_response(
        200,
        schema=schemas.DeployOut,
        description="the same files as an existing version, returned (activate it if wanted)",
    )
    def post(self, data):
        """Deploy a diagram: validated, then kept as a new version, active at once; running cases stay on theirs."""
        command = _deploy_command(data)
        deployment = _routing().bus.handle(command)
        body = {
            **_version_out(deployment.version, deployment.active),
            "message": _deploy_message(deployment, command.language),
            "proof": deployment.proof.summary(command.language) if deployment.proof else None,
        }
        return body, 201 if deployment.created else 200

    @require_roles(Role.PROCESS_DESIGNER, Role.OPERATIONS_MANAGER, Role.ADMIN)
    @processes.response(200, schemas.VersionOut(many=True))
    def get(self):
        """Every deployed version, newest first, each process's active one marked."""
        mall_id = current_identity().mall_id
        with _routing().reading() as uow:
            versions = uow.processes.list(mall_id)
            active = {key: uow.processes.active(mall_id, key) for key in {v.process_key for v in versions}}
        return [_version_out(version, version.id == active[version.process_key].id) for version in versions]


@processes.route("/proof", methods=["POST"])
@require_roles(Role.PROCESS_DESIGNER)
@body_limit(DEPLOY_BODY_BYTES)
@processes.arguments(schemas.DeployIn())
@processes.response(200, schemas.ProofOut)
def prove(data):
    """Validate and prove a diagram without deploying it: the problems a deploy would refuse it for,
    and what the probes reached."""
    command = _deploy_command(data)
    diagram, proof = _routing().bus.handle(ProveProcess(command))
    if proof is None:
        raise InvalidInput(
            f"process {diagram.process_id!r} starts no complaint case, so there is nothing to prove "
            f"(complaints start the process {_routing().context.process_key!r})",
            {"bpmn": [f"the diagram's process is {diagram.process_id!r}"]},
        )
    return proof.summary(command.language)


@processes.route("/<string:process_key>/<int:version>/activate", methods=["POST"])
@require_roles(Role.PROCESS_DESIGNER, Role.ADMIN)
@processes.arguments(schemas.ActivateIn())
@processes.response(200, schemas.VersionOut)
@processes.alt_response(404, response="NOT_FOUND")
@processes.alt_response(409, response="CONFLICT")
def activate(data, process_key, version):
    """Make this version the one new cases start (a rollback); running cases stay on theirs."""
    identity = current_identity()
    command = ActivateProcess(process_key, version, identity.subject, data["reason"].strip())
    return _version_out(_routing().bus.handle(command), True)


@processes.route("/<string:process_key>/activations")
@require_roles(Role.PROCESS_DESIGNER, Role.OPERATIONS_MANAGER, Role.ADMIN)
@processes.response(200, schemas.ActivationOut(many=True))
@processes.alt_response(404, response="NOT_FOUND")
def list_activations(process_key):
    """Every activation of the process, newest first: which version, who, when, why."""
    mall_id = current_identity().mall_id
    with _routing().reading() as uow:
        if uow.processes.active(mall_id, process_key) is None:
            raise NotFound(f"no process {process_key}")
        return uow.processes.activations(mall_id, process_key)


@processes.route("/<string:process_key>/<int:version>/bpmn")
@require_roles(Role.PROCESS_DESIGNER, Role.OPERATIONS_MANAGER, Role.ADMIN)
@processes.alt_response(404, response="NOT_FOUND")
@processes.doc(responses={200: {"description": "the BPMN XML", "content": {"application/xml": {}}}})
def get_bpmn(process_key, version):
    """The XML of one deployed version."""
    with _routing().reading() as uow:
        found = uow.processes.find(current_identity().mall_id, process_key, version)
    if found is None:
        raise NotFound(f"no version {version} of {process_key}")
    return Response(found.bpmn_xml, mimetype="application/xml")


@processes.route("/<string:process_key>/<int:version>/dmn/<string:name>")
@require_roles(Role.PROCESS_DESIGNER, Role.OPERATIONS_MANAGER, Role.ADMIN)
@processes.alt_response(404, response="NOT_FOUND")
@processes.doc(responses={200: {"description": "the DMN XML", "content": {"application/xml": {}}}})
def get_dmn(process_key, version, name):
    """The XML of one DMN file deployed with a version (the modeler redeploys it with an edit)."""
    with _routing().reading() as uow:
        found = uow.processes.find(current_identity().mall_id, process_key, version)
    if found is None or name not in found.dmn_xml:
        raise NotFound(f"no {name} in version {version} of {process_key}")
    return Response(found.dmn_xml[name], mimetype="application/xml")
