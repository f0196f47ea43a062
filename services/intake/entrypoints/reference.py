"""Floors, departments and merchants of the mall."""

from __future__ import annotations

from flask import current_app

from services.common.errors import InvalidInput
from services.common.web import Blueprint, current_identity, require_roles
from services.intake.entrypoints import schemas
from services.intake.entrypoints.access import READ_ROLES, REFERENCE_EDITORS

reference = Blueprint(
    "reference",
    __name__,
    url_prefix="/reference",
    description="Floors, departments and merchants of the mall.",
)


@reference.route("/floors")
@require_roles(*READ_ROLES, *REFERENCE_EDITORS)
@reference.response(200, schemas.FloorSchema(many=True))
def list_floors():
    """The mall's floors, lowest first."""
    with current_app.extensions["intake.uow"]() as uow:
        return uow.reference.floors(current_identity().mall_id)


@reference.route("/departments")
@require_roles(*READ_ROLES, *REFERENCE_EDITORS)
@reference.response(200, schemas.DepartmentSchema(many=True))
def list_departments():
    """The mall's departments."""
    with current_app.extensions["intake.uow"]() as uow:
        return uow.reference.departments(current_identity().mall_id)


@reference.route("/merchants")
@require_roles(*READ_ROLES, *REFERENCE_EDITORS)
@reference.arguments(schemas.MerchantArgs(), location="query")
@reference.response(200, schemas.MerchantSchema(many=True))
def list_merchants(args):
    """The mall's merchants with their person in charge, optionally of one floor."""
    with current_app.extensions["intake.uow"]() as uow:
        return uow.reference.merchants(current_identity().mall_id, args.get("floor"))


CODE_PARAMETER = {
    "in": "path",
    "name": "code",
    "required": True,
    "schema": {"type": "string", "pattern": schemas.REFERENCE_CODE.regex.pattern},
}


def _check_code(code: str) -> None:
    if not schemas.REFERENCE_CODE.regex.fullmatch(code):
        raise InvalidInput("bad code", {"code": ["letters, digits, '-' and '_' only, at most 40"]})


@reference.route("/floors/<string:code>", methods=["PUT"], parameters=[CODE_PARAMETER])
@require_roles(*REFERENCE_EDITORS)
@reference.arguments(schemas.FloorSchema())
@reference.response(200, schemas.FloorSchema)
def put_floor(data, code):
    """Create or rename a floor."""
    _check_code(code)
    with current_app.extensions["intake.uow"]() as uow:
        uow.reference.upsert_floor(current_identity().mall_id, {**data, "code": code})
        uow.commit()
    return {**data, "code": code}


@reference.route("/departments/<string:code>", methods=["PUT"], parameters=[CODE_PARAMETER])
@require_roles(*REFERENCE_EDITORS)
@reference.arguments(schemas.DepartmentSchema())
@reference.response(200, schemas.DepartmentSchema)
def put_department(data, code):
    """Create or rename a department."""
    _check_code(code)
    with current_app.extensions["intake.uow"]() as uow:
        uow.reference.upsert_department(current_identity().mall_id, {**data, "code": code})
        uow.commit()
    return {**data, "code": code}


@reference.route("/merchants/<string:code>", methods=["PUT"], parameters=[CODE_PARAMETER])
@require_roles(*REFERENCE_EDITORS)
@reference.arguments(schemas.MerchantSchema())
@reference.response(200, schemas.MerchantSchema)
def put_merchant(data, code):
    """Create or update a merchant (its floor must exist)."""
    _check_code(code)
    mall_id = current_identity().mall_id
    with current_app.extensions["intake.uow"]() as uow:
        if not any(floor["code"] == data["floor"] for floor in uow.reference.floors(mall_id)):
            raise InvalidInput("unknown floor", {"floor": [f"unknown floor {data['floor']!r}"]})
        uow.reference.upsert_merchant(mall_id, {**data, "code": code})
        uow.commit()
    return {**data, "code": code}
