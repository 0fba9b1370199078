"""Tables drawn with plain rows and cells.

Quasar's per-cell components (QTd, QBtn, QTooltip) cost the browser about
20 ms a row on a small machine, so a page of 50 tasks took a second to draw.
Each table here renders its body from one template of plain ``<tr>`` and
``<td>`` elements instead; the columns keep Quasar's header and styles.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from nicegui import ui

# Cells that are not in the mapping show the row's value of the column field.
Cells = Mapping[str, str]

ACTIONS = r"""
<button v-if="props.row.can_cancel" class="text-negative" title="Cancel"
        :data-testid="'cancel-' + props.row.id"
        @click="() => $parent.$emit('cancel', props.row)">
  <i class="q-icon material-icons">cancel</i></button>
<button v-if="props.row.can_retry" class="text-primary" title="Retry"
        :data-testid="'retry-' + props.row.id"
        @click="() => $parent.$emit('retry', props.row)">
  <i class="q-icon material-icons">replay</i></button>
<button class="text-grey-8" title="Delete" :data-testid="'delete-' + props.row.id"
        @click="() => $parent.$emit('delete', props.row)">
  <i class="q-icon material-icons">delete</i></button>
"""
TASK_NAME = r"""
<a :href="'/ui/tasks/' + props.row.id" class="text-primary text-weight-medium"
   :data-testid="'task-link-' + props.row.id">{{ props.row.name }}</a>
<div class="text-caption text-grey-7">{{ props.row.short_id }}</div>
"""
TASK_STATUS = r"""
<span :class="'tq-badge bg-' + props.row.status_color"
      :data-testid="'task-status-' + props.row.id">{{ props.row.status_label }}</span>
<div v-if="props.row.reason" class="text-caption text-grey-7">
  {{ props.row.reason }}</div>
"""
TASK_PRIORITY = r"""
<span :class="'tq-badge tq-outline text-' + props.row.priority_color">
  {{ props.row.priority }}</span>
"""
TASK_COMMAND = r"""<code class="text-caption">{{ props.row.command }}</code>"""
TASK_CELLS: dict[str, str] = {
    "name": TASK_NAME,
    "status": TASK_STATUS,
    "priority": TASK_PRIORITY,
    "command": TASK_COMMAND,
    "actions": ACTIONS,
}


def body_template(columns: list[dict[str, Any]], cells: Cells, row_key: str) -> str:
    """Return the body slot: one plain row per item, one cell per column."""
    parts = [f'<tr :key="props.row.{row_key}">']
    for column in columns:
        align = html.escape(column.get("align", "left"))
        inner = cells.get(column["name"], f"{{{{ props.row.{column['field']} }}}}")
        extra = " tq-actions" if column["name"] == "actions" else ""
        parts.append(f'<td class="text-{align}{extra}">{inner}</td>')
    parts.append("</tr>")
    return "\n".join(parts)


def table(
    columns: list[dict[str, Any]],
    cells: Cells,
    *,
    row_key: str = "id",
    rows: list[dict[str, Any]] | None = None,
) -> ui.table:
    """Return a table whose body is drawn from plain rows."""
    drawn = ui.table(columns=columns, rows=rows or [], row_key=row_key, pagination=0)
    drawn.props("flat bordered dense hide-pagination wrap-cells")
    drawn.classes("w-full")
    drawn.add_slot("body", body_template(columns, cells, row_key))
    return drawn


def task_table(columns: list[dict[str, Any]]) -> ui.table:
    """Return a table of task rows (see reads.task_row) with links and actions."""
    return table(columns, TASK_CELLS)
