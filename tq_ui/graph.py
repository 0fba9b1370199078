"""Lay a workflow out as layers and draw it as an ECharts graph.

One node per task, coloured by status; one arrow per ``WorkflowEdge``. A task
sits one layer right of its deepest dependency, so every edge points right.
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from typing import Any

from tq_grpc._gen import workflows_pb2
from tq_ui import text

LAYER_GAP = 220
ROW_GAP = 70
LABELS_UP_TO = 150
EDGE_COLORS = {"success": "#607d8b", "failure": "#d32f2f", "completion": "#8e24aa"}
CATEGORIES = text.TASK_STATUSES
TOOLTIP = """p => {
  if (p.dataType !== 'node') return '';
  const esc = (v) => String(v).replace(/[&<>"']/g, (c) => '&#' + c.charCodeAt(0) + ';');
  return esc(p.data.task) + ' (' + esc(p.data.name) + ')<br/>' + NAMES[p.data.category];
}"""


def layers(keys: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Return each key's layer: 0 for sources, else 1 + its deepest source.

    Keys caught in a cycle (which the server never stores) go to layer 0.
    """
    incoming: dict[str, int] = dict.fromkeys(keys, 0)
    outgoing: dict[str, list[str]] = defaultdict(list)
    for source, target in edges:
        if source in incoming and target in incoming:
            outgoing[source].append(target)
            incoming[target] += 1
    layer = dict.fromkeys(keys, 0)
    ready = deque(k for k in keys if incoming[k] == 0)
    while ready:
        key = ready.popleft()
        for target in outgoing[key]:
            layer[target] = max(layer[target], layer[key] + 1)
            incoming[target] -= 1
            if incoming[target] == 0:
                ready.append(target)
    return layer


def chart_options(workflow: workflows_pb2.Workflow) -> dict[str, Any]:
    """Return the ECharts options of a workflow's graph.

    A node is ``{name: key, value: task id, task: task name, x, y, category}``
    with one category per task status, so colours come from the categories
    and a big workflow's options stay small.
    """
    tasks = list(workflow.tasks)
    layer_of = layers(
        [t.key for t in tasks], [(e.source_key, e.target_key) for e in workflow.edges]
    )
    rows: dict[int, int] = defaultdict(int)
    labelled = len(tasks) <= LABELS_UP_TO
    nodes = []
    for item in tasks:
        layer = layer_of[item.key]
        nodes.append(
            {
                "name": item.key,
                "value": item.task.id,
                "task": item.task.name,
                "x": layer * LAYER_GAP,
                "y": rows[layer] * ROW_GAP,
                "category": category_of(item.task.status),
            }
        )
        rows[layer] += 1
    links = []
    for edge in workflow.edges:
        link: dict[str, Any] = {"source": edge.source_key, "target": edge.target_key}
        condition = text.condition_name(edge.condition)
        if condition != "success":
            link["lineStyle"] = {"color": EDGE_COLORS[condition]}
            link["label"] = {"show": labelled, "formatter": condition}
        links.append(link)
    names = json.dumps([text.label(s) for s in CATEGORIES])
    return {
        "animation": False,
        # ECharts writes a tooltip as HTML: task names are escaped first.
        "tooltip": {":formatter": TOOLTIP.replace("NAMES", names)},
        "series": [
            {
                "type": "graph",
                "layout": "none",
                "roam": True,
                "draggable": False,
                "symbolSize": 26 if labelled else 10,
                "edgeSymbol": ["none", "arrow"],
                "edgeSymbolSize": 8,
                "label": {"show": labelled, "position": "bottom", "fontSize": 11},
                "lineStyle": {
                    "width": 1.5,
                    "opacity": 0.8,
                    "color": EDGE_COLORS["success"],
                },
                "categories": [
                    {"name": status, "itemStyle": {"color": text.STATUS_HEX[status]}}
                    for status in CATEGORIES
                ],
                "data": nodes,
                "links": links,
            }
        ],
    }


def category_of(status: int) -> int:
    """Return the graph category (index into CATEGORIES) of a task status."""
    name = text.status_name(status)
    return CATEGORIES.index(name) if name in CATEGORIES else 0


def recolor(options: dict[str, Any], workflow: workflows_pb2.Workflow) -> bool:
    """Give the graph's nodes the statuses of workflow; return whether any changed.

    The layout stays as it is: only categories (colours) move.
    """
    category = {t.key: category_of(t.task.status) for t in workflow.tasks}
    changed = False
    for node in options["series"][0]["data"]:
        new = category.get(node["name"], node["category"])
        if node["category"] != new:
            node["category"] = new
            changed = True
    return changed
