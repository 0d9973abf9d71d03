"""evidence: stored Merkle proofs per run of 16 leaves (a hit reads one row, never rebuilds a tree)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('evidence_proof',
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('chunk', sa.Integer(), nullable=False),
    sa.Column('leaves', sa.LargeBinary(), nullable=False),
    sa.Column('path', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['evidence_batch.id'], ),
    sa.PrimaryKeyConstraint('batch_id', 'chunk'),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('evidence_batch', schema=None) as batch_op:
        batch_op.create_index('evidence_batch_unindexed', ['deployment', 'indexed'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('evidence_batch', schema=None) as batch_op:
        batch_op.drop_index('evidence_batch_unindexed')
    op.drop_table('evidence_proof')
