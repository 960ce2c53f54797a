"""Pagination of SQLAlchemy select() statements for flask-smorest's @blp.paginate."""
from __future__ import annotations

from flask_smorest import Page
from sqlalchemy import func, select

from api.common import SQLITE_MAX_INT
from store.db import session


class SQLPage(Page):
    """Counts and slices a select() in the database instead of loading every row."""

    @property
    def items(self):
        if self.page_params.first_item > SQLITE_MAX_INT:    # a page far past the end is simply empty
            return []
        stmt = self.collection.limit(self.page_params.page_size).offset(self.page_params.first_item)
        return session().scalars(stmt).all()

    @property
    def item_count(self):
        return session().scalar(select(func.count()).select_from(self.collection.order_by(None).subquery()))
