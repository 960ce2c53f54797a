"""Token administration. Tokens are also created offline with `python app.py create-token`."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import abort
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from api import auth
from api.common import get_or_404
from api.extensions import ID, Blueprint, link
from api.tokens.schemas import NewTokenSchema, TokenSchema
from store.db import session
from store.models import ApiToken, utcnow

blp = Blueprint("Tokens", __name__, url_prefix="/api/v1/tokens", description="API tokens (admin)")


@blp.route("")
class Tokens(MethodView):
    @blp.auth_required("admin")
    @blp.response(200, TokenSchema(many=True))
    def get(self):
        """List tokens (never their values)"""
        return session().scalars(select(ApiToken).order_by(ApiToken.id)).all()

    @blp.auth_required("admin")
    @blp.arguments(TokenSchema)
    @blp.response(201, NewTokenSchema)
    @blp.links(201, RevokeToken=link("/api/v1/tokens/{token_id}", "delete", "Revoke the token", token_id=ID))
    @blp.errors(409)
    def post(self, args):
        """Create a token; the value is returned once"""
        sess = session()
        row, plaintext = auth.new_token(sess, args["name"], args["scope"])
        try:
            sess.commit()
        except IntegrityError:
            sess.rollback()
            abort(409, message=f"A token named {args['name']!r} already exists.", errors={"json": {"name": ["Already exists."]}})
        row.token = plaintext
        return row


@blp.route("/<int:token_id>", methods=["DELETE"])
@blp.auth_required("admin")
@blp.response(204)
@blp.errors(404)
def revoke(token_id):
    """Revoke a token (kept for the audit trail)"""
    sess = session()
    row = get_or_404(ApiToken, token_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        sess.commit()

