"""Canned replies: the mall's operations manager (or an admin) keeps them; the desk reads them."""

from __future__ import annotations

from flask import current_app

from services.common.web import Blueprint, current_identity, require_roles
from services.intake.adapters.reply_templates import ReplyTemplates
from services.intake.entrypoints import schemas
from services.intake.entrypoints.access import READ_ROLES, REFERENCE_EDITORS

reply_templates = Blueprint(
    "reply_templates",
    __name__,
    url_prefix="/reply-templates",
    description="Canned replies by category: the desk picks one on the reply task, then edits it.",
)


def _write(action):
    identity = current_identity()
    runtime = current_app.extensions["intake.runtime"]
    with runtime.uow() as uow:
        found = action(ReplyTemplates(uow.conn), identity.mall_id, identity.subject, runtime.clock.now())
        uow.commit()
    return found


@reply_templates.route("")
@require_roles(*READ_ROLES, *REFERENCE_EDITORS)
@reply_templates.arguments(schemas.ReplyTemplateArgs(), location="query")
@reply_templates.response(200, schemas.ReplyTemplateOut(many=True))
def list_reply_templates(args):
    """The templates in use (all, with `include_retired`), of one category when given."""
    with current_app.extensions["intake.uow"]() as uow:
        return ReplyTemplates(uow.conn).list(
            current_identity().mall_id, args.get("category"), args["include_retired"]
        )


@reply_templates.route("", methods=["POST"])
@require_roles(*REFERENCE_EDITORS)
@reply_templates.arguments(schemas.ReplyTemplateIn())
@reply_templates.response(201, schemas.ReplyTemplateOut)
def post_reply_template(data):
    """Add a template; its title must be new among its category's templates in use."""
    return _write(lambda templates, mall, by, at: templates.add(mall, data, by, at))


@reply_templates.route("/<int:template_id>", methods=["PATCH"])
@require_roles(*REFERENCE_EDITORS)
@reply_templates.arguments(schemas.ReplyTemplateChange())
@reply_templates.response(200, schemas.ReplyTemplateOut)
@reply_templates.alt_response(404, response="NOT_FOUND")
@reply_templates.alt_response(409, response="CONFLICT")
def patch_reply_template(data, template_id):
    """Change a template's category, title or text (`version` as read refuses a change made meanwhile)."""
    return _write(lambda templates, mall, by, at: templates.change(mall, template_id, data, by, at))


@reply_templates.route("/<int:template_id>/retire", methods=["POST"])
@require_roles(*REFERENCE_EDITORS)
@reply_templates.response(200, schemas.ReplyTemplateOut)
@reply_templates.alt_response(404, response="NOT_FOUND")
def retire_reply_template(template_id):
    """Offer the template no more; it stays on record (replies made with it keep its title)."""
    return _write(
        lambda templates, mall, by, at: templates.change(mall, template_id, {"retired": True}, by, at)
    )


@reply_templates.route("/<int:template_id>/restore", methods=["POST"])
@require_roles(*REFERENCE_EDITORS)
@reply_templates.response(200, schemas.ReplyTemplateOut)
@reply_templates.alt_response(400, response="BAD_REQUEST")
@reply_templates.alt_response(404, response="NOT_FOUND")
def restore_reply_template(template_id):
    """Offer a retired template again (its title must still be free in its category)."""
    return _write(
        lambda templates, mall, by, at: templates.change(mall, template_id, {"retired": False}, by, at)
    )
