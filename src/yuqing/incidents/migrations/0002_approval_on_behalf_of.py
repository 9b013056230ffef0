"""approval on behalf of: a stand-in approves for an absent approver

Revision ID: 9d4f5b0eaea2
Revises: e90a467846c1
Create Date: 2026-11-29 04:22:06.988138
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '9d4f5b0eaea2'
down_revision = 'e90a467846c1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('incident_statement_approvals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('on_behalf_of', sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('incident_statement_approvals', schema=None) as batch_op:
        batch_op.drop_column('on_behalf_of')

