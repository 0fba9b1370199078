"""Lay a workflow out as layers and draw it as an ECharts chart.

One node per task, coloured by status; one arrow per ``WorkflowEdge``. A task
sits one layer right of its deepest dependency, so every edge points right.

Up to ``LABELS_UP_TO`` tasks the chart is a ``graph`` series with every node
named. A bigger workflow is drawn in ECharts' large mode instead: a ``graph``
series costs the browser one element per node and per arrow (most of a
second for 5,000 tasks), while a large ``scatter`` series per status and a large
``lines`` series per condition are a few paths whatever their size. Their
points travel as ``:data`` expressions that make typed arrays, which keeps
them small on the wire and out of Vue's reactivity.
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from collections.abc import Iterable
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
# Large mode: a point is [layer, row, node number]; the tooltip finds the
# node's key and task name by its number in nodes ([key, name] pairs).
LARGE_TOOLTIP = """(nodes) => {
  const esc = (v) => String(v).replace(/[&<>"']/g, (c) => '&#' + c.charCodeAt(0) + ';');
  return (p) => {
    if (p.seriesType !== 'scatter') return '';
    const [key, name] = nodes[p.value[2]];
    return esc(name) + ' (' + esc(key) + ')<br/>' + p.seriesName;
  };
}"""
# Large mode: each edge [x1, y1, x2, y2] (in layers and rows) becomes a
# polyline source → tip → barb → tip → barb. The arrowhead is drawn in the
# pixels of a chart NOMINAL_WIDTH wide (sx, sy: pixels per layer and per row),
# so it keeps its shape on a chart of about that width.
ARROWS = """(c, sx, sy, tip, length, half) => {
  const out = new Float32Array(c.length / 4 * 11);
  for (let i = 0, o = 0; i < c.length; i += 4, o += 11) {
    const x1 = c[i], y1 = c[i + 1], x2 = c[i + 2], y2 = c[i + 3];
    const dx = (x2 - x1) * sx, dy = (y2 - y1) * sy, d = Math.hypot(dx, dy) || 1;
    const ux = dx / d, uy = dy / d;
    const tx = x2 - ux * tip / sx, ty = y2 - uy * tip / sy;
    const bx = tx - ux * length / sx, by = ty - uy * length / sy;
    const wx = uy * half / sx, wy = ux * half / sy;
    out.set([5, x1, y1, tx, ty, bx - wx, by + wy, tx, ty, bx + wx, by - wy], o);
  }
  return out;
}"""
NOMINAL_WIDTH = 1300
# Pixels: from the node's centre to the arrow's tip, the arrowhead's length
# and half its width.
ARROW_PX = (4, 7, 3)
LARGE_SYMBOL_SIZE = 7
# Large mode from the first item (ECharts waits for 2,000 by default), drawn
# in one go (not 400 items a frame).
_LARGE = {"large": True, "largeThreshold": 1, "progressive": 0}


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


class WorkflowGraph:
    """A workflow's chart: laid out once, then recoloured as its tasks change.

    Nodes are numbered in the workflow's task order; a node keeps its number,
    its place and its edges for as long as the page is open.
    """

    def __init__(self, workflow: workflows_pb2.Workflow) -> None:
        tasks = list(workflow.tasks)
        self.keys = [t.key for t in tasks]
        self.task_ids = [t.task.id for t in tasks]
        self.names = [t.task.name for t in tasks]
        self.category = [category_of(t.task.status) for t in tasks]
        self.index = {key: i for i, key in enumerate(self.keys)}
        self.edges = [
            (
                self.index[e.source_key],
                self.index[e.target_key],
                text.condition_name(e.condition),
            )
            for e in workflow.edges
            if e.source_key in self.index and e.target_key in self.index
        ]
        layer_of = layers(
            self.keys, [(e.source_key, e.target_key) for e in workflow.edges]
        )
        self.layer = [layer_of[key] for key in self.keys]
        self.row, widths = _rows(self.layer)
        self.widest = max(widths, default=1)
        self.depth = len(widths) or 1
        self.large = len(tasks) > LABELS_UP_TO

    def height_px(self) -> int:
        """Return how tall the chart should be for the widest layer."""
        return max(320, min(900, 80 + 70 * self.widest))

    def options(self) -> dict[str, Any]:
        """Return the chart's ECharts options as the nodes are coloured now."""
        return self._large_options() if self.large else self._graph_options()

    def recolor(
        self, options: dict[str, Any], workflow: workflows_pb2.Workflow
    ) -> bool:
        """Give options' nodes the statuses of workflow; return whether any changed.

        The layout stays as it is. A task the answer lacks keeps its colour.
        """
        changed = False
        for item in workflow.tasks:
            index = self.index.get(item.key)
            new = category_of(item.task.status)
            if index is not None and self.category[index] != new:
                self.category[index] = new
                changed = True
        if changed and self.large:
            edges = options["series"][: len(EDGE_COLORS)]
            options["series"] = [*edges, *self._node_series()]
        elif changed:
            recolor(options, workflow)
        return changed

    def task_id(self, value: object) -> str | None:
        """Return the task a clicked point stands for (its value in the chart)."""
        if isinstance(value, str):
            return value or None
        if isinstance(value, list) and len(value) == 3:
            index = int(value[2])
            return self.task_ids[index] if 0 <= index < len(self.task_ids) else None
        return None

    def points(self) -> list[list[tuple[int, int, int]]]:
        """Return, per category, its nodes as (layer, row, node number)."""
        points: list[list[tuple[int, int, int]]] = [[] for _ in CATEGORIES]
        for i, category in enumerate(self.category):
            points[category].append((self.layer[i], self.row[i], i))
        return points

    def edge_coords(self) -> dict[str, list[tuple[int, int, int, int]]]:
        """Return, per condition, its edges as (layer, row) of source and target."""
        coords: dict[str, list[tuple[int, int, int, int]]] = {
            c: [] for c in EDGE_COLORS
        }
        for source, target, condition in self.edges:
            coords[condition].append(
                (
                    self.layer[source],
                    self.row[source],
                    self.layer[target],
                    self.row[target],
                )
            )
        return coords

    def _graph_options(self) -> dict[str, Any]:
        nodes = [
            {
                "name": key,
                "value": self.task_ids[i],
                "task": self.names[i],
                "x": self.layer[i] * LAYER_GAP,
                "y": self.row[i] * ROW_GAP,
                "category": self.category[i],
            }
            for i, key in enumerate(self.keys)
        ]
        links = []
        for source, target, condition in self.edges:
            link: dict[str, Any] = {
                "source": self.keys[source],
                "target": self.keys[target],
            }
            if condition != "success":
                link["lineStyle"] = {"color": EDGE_COLORS[condition]}
                link["label"] = {"show": True, "formatter": condition}
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
                    "symbolSize": 26,
                    "edgeSymbol": ["none", "arrow"],
                    "edgeSymbolSize": 8,
                    "label": {"show": True, "position": "bottom", "fontSize": 11},
                    "lineStyle": {
                        "width": 1.5,
                        "opacity": 0.8,
                        "color": EDGE_COLORS["success"],
                    },
                    "categories": [
                        {"name": s, "itemStyle": {"color": text.STATUS_HEX[s]}}
                        for s in CATEGORIES
                    ],
                    "data": nodes,
                    "links": links,
                }
            ],
        }

    def _large_options(self) -> dict[str, Any]:
        nodes = json.dumps(list(zip(self.keys, self.names, strict=True)))
        return {
            "animation": False,
            "grid": {"left": 8, "right": 8, "top": 8, "bottom": 8},
            "xAxis": _hidden_axis(self.depth),
            "yAxis": {**_hidden_axis(self.widest), "inverse": True},
            # Zoom and pan, as a graph series' roam does.
            "dataZoom": [
                {"type": "inside", "xAxisIndex": 0, "filterMode": "none"},
                {"type": "inside", "yAxisIndex": 0, "filterMode": "none"},
            ],
            # ECharts writes a tooltip as HTML: task names are escaped first.
            "tooltip": {":formatter": f"({LARGE_TOOLTIP})({nodes})"},
            "series": [*self._edge_series(), *self._node_series()],
        }

    def _edge_series(self) -> list[dict[str, Any]]:
        scale = (
            f"{NOMINAL_WIDTH / self.depth:.3f}, {self.height_px() / self.widest:.3f}"
        )
        sizes = ", ".join(str(px) for px in ARROW_PX)
        return [
            {
                "type": "lines",
                "name": condition,
                "coordinateSystem": "cartesian2d",
                "polyline": True,
                **_LARGE,
                "silent": True,
                "lineStyle": {
                    "width": 1,
                    "opacity": 0.6,
                    "color": EDGE_COLORS[condition],
                },
                ":data": f"({ARROWS})({_numbers(coords)}, {scale}, {sizes})",
            }
            for condition, coords in self.edge_coords().items()
        ]

    def _node_series(self) -> list[dict[str, Any]]:
        return [
            {
                "type": "scatter",
                "name": text.label(status),
                **_LARGE,
                "symbolSize": LARGE_SYMBOL_SIZE,
                "itemStyle": {"color": text.STATUS_HEX[status]},
                "dimensions": ["layer", "row", "node"],
                "encode": {"x": "layer", "y": "row"},
                ":data": f"new Float32Array({_numbers(members)})",
            }
            for status, members in zip(CATEGORIES, self.points(), strict=True)
        ]


def _rows(layer_of_node: list[int]) -> tuple[list[int], list[int]]:
    """Return each node's row within its layer, and each layer's width."""
    widths: dict[int, int] = defaultdict(int)
    rows = []
    for layer in layer_of_node:
        rows.append(widths[layer])
        widths[layer] += 1
    return rows, list(widths.values())


def _hidden_axis(count: int) -> dict[str, Any]:
    return {"type": "value", "show": False, "min": -0.5, "max": count - 0.5}


def _numbers(items: Iterable[tuple[int, ...]]) -> str:
    """Return tuples of numbers as one flat JSON array."""
    return "[" + ",".join(str(n) for item in items for n in item) + "]"


def chart_options(workflow: workflows_pb2.Workflow) -> dict[str, Any]:
    """Return the ECharts options of a workflow's graph (see WorkflowGraph).

    Up to LABELS_UP_TO tasks, a node is ``{name: key, value: task id, task:
    task name, x, y, category}`` with one category per task status, so
    colours come from the categories.
    """
    return WorkflowGraph(workflow).options()


def category_of(status: int) -> int:
    """Return the graph category (index into CATEGORIES) of a task status."""
    name = text.status_name(status)
    return CATEGORIES.index(name) if name in CATEGORIES else 0


def recolor(options: dict[str, Any], workflow: workflows_pb2.Workflow) -> bool:
    """Give a graph series' nodes the statuses of workflow; return whether any changed.

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
