"""The shape of a family picture: edges folded from relationship rows, and a layered layout.

Pure functions of :class:`~visualise.data.FamilyViewData`, no strings for display. The layout
is computed here (generations as rows, barycentre ordering within a row) so the browser never
runs physics: the picture opens at once and is the same every time.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import date

from famlink.visualise.data import PARENT_RELATIONSHIPS, FamilyViewData, RelationshipData

#: Edge categories, in legend order: (category, colour, legend text).
CATEGORIES: tuple[tuple[str, str, str], ...] = (
    ("parent", "#0072B2", "parent → child (mother, father, parent)"),
    ("carer", "#CC79A7", "step-parent or carer → child"),
    ("partner", "#D55E00", "partners"),
    ("ex_partner", "#E69F00", "former partners"),
    ("sibling", "#009E73", "siblings and half-siblings"),
    ("household", "#555555", "live at the same address (co-resident, household member)"),
    ("other", "#999999", "other relationship"),
)
CATEGORY_COLOUR = {c: colour for c, colour, _ in CATEGORIES}

#: Basis groups: recorded (an agency said so, or its reverse), derived (from recorded ones),
#: inferred (from shared addresses). Dash patterns for vis-network.
BASES: tuple[tuple[str, bool | list[int], str], ...] = (
    ("recorded", False, "recorded by an agency (solid, labelled with the agency)"),
    (
        "derived",
        [2, 5],
        "derived from recorded relationships, e.g. siblings via a shared parent (dotted)",
    ),
    ("inferred", [10, 6], "inferred from shared addresses — not a recorded fact (dashed)"),
)
BASIS_DASHES = {b: dashes for b, dashes, _ in BASES}

X_SPACING = 240
Y_SPACING = 210
MAX_ROW = (
    6  # people per drawn row before a generation wraps (keeps the picture near the canvas shape)
)


@dataclass(frozen=True)
class EdgeGroup:
    """One drawn edge: every relationship row between two people of one category and basis."""

    edge_id: str
    from_id: str  # the parent for directed categories
    to_id: str
    category: str
    basis: str
    directed: bool
    rows: tuple[RelationshipData, ...]
    #: rows of the same two people folded into this edge instead of drawn as a second line:
    #: inferred co-residence (where any tie is drawn) and derived rows (where an agency
    #: recorded the same relationship)
    folded: tuple[RelationshipData, ...] = ()

    @property
    def shared_address(self) -> bool:
        return any(r.basis == "inferred" for r in self.folded)

    @property
    def also_derived(self) -> bool:
        return any(r.basis == "derived" for r in self.folded)

    @property
    def terms(self) -> tuple[str, ...]:
        """Relationship words as seen from ``from_id`` ("mother", "partner" …)."""
        words = sorted({_term(r) for r in self.rows} - {"parent"}) or ["parent"]
        return tuple(words)

    @property
    def sources(self) -> tuple[str, ...]:
        """Short source names (``csc``, ``police`` …) of the agencies that recorded it."""
        return tuple(sorted({r.source for r in self.rows if r.source and self.basis == "recorded"}))

    @property
    def agencies(self) -> tuple[str, ...]:
        return tuple(sorted({r.agency for r in self.rows if r.agency and self.basis == "recorded"}))

    @property
    def link_probability(self) -> float | None:
        values = [r.link_probability for r in self.rows if r.link_probability is not None]
        return min(values) if values else None


#: Rows read from the child's side of a parent–child edge: (A, B, "child") means A is B's parent.
FROM_PARENT_SIDE = {"child": "parent", "step_child": "step_parent", "cared_for": "carer"}


def _term(row: RelationshipData) -> str:
    """The relationship word seen from the parent's (or either) side."""
    return FROM_PARENT_SIDE.get(row.relationship, row.relationship)


def _basis(basis: str) -> str:
    if basis in ("recorded", "reciprocal"):
        return "recorded"
    if basis == "inferred":
        return "inferred"
    return "derived"


def _category(relationship: str) -> tuple[str, bool]:
    if relationship in ("mother", "father", "parent", "child"):
        return "parent", True
    if relationship in PARENT_RELATIONSHIPS or relationship in FROM_PARENT_SIDE:
        return "carer", True
    if relationship in ("sibling", "half_sibling"):
        return "sibling", False
    if relationship in ("partner", "ex_partner"):
        return relationship, False
    if relationship in ("co_resident", "household_member"):
        return "household", False
    return "other", False


def edge_groups(data: FamilyViewData) -> list[EdgeGroup]:
    """Fold relationship rows (and their reverses) into one edge per pair, category and basis."""
    groups: dict[tuple[str, str, str, str], list[RelationshipData]] = defaultdict(list)
    directed: dict[tuple[str, str, str, str], bool] = {}
    for row in data.relationships:
        category, is_directed = _category(row.relationship)
        if is_directed:
            # "related is person's mother" → mother → person; "related is person's child" → person → related
            if row.relationship in FROM_PARENT_SIDE:
                a, b = row.person_id, row.related_person_id
            else:
                a, b = row.related_person_id, row.person_id
        else:
            a, b = sorted((row.person_id, row.related_person_id))
        key = (a, b, category, _basis(row.basis))
        groups[key].append(row)
        directed[key] = is_directed
    order = {c: i for i, (c, _, _) in enumerate(CATEGORIES)}
    border = {b: i for i, (b, _, _) in enumerate(BASES)}
    keys = sorted(groups, key=lambda k: (k[0], k[1], order[k[2]], border[k[3]]))
    # A household's co-residence is a clique: where two people already have a drawn tie
    # (mother, partner, sibling …) their shared address goes into that edge's evidence; a
    # derived sibling link an agency also recorded goes into the recorded edge.
    tie: dict[frozenset[str], tuple[str, str, str, str]] = {}
    recorded: dict[tuple[frozenset[str], str], tuple[str, str, str, str]] = {}
    for k in keys:
        if not _is_co_residence(k):
            tie.setdefault(frozenset(k[:2]), k)
        if k[3] == "recorded":
            recorded.setdefault((frozenset(k[:2]), k[2]), k)
    folded: dict[tuple[str, str, str, str], list[RelationshipData]] = defaultdict(list)
    drawn = []
    for k in keys:
        if _is_co_residence(k):
            host = tie.get(frozenset(k[:2]))
        elif k[3] == "derived":
            host = recorded.get((frozenset(k[:2]), k[2]))
        else:
            host = None
        if host is not None:
            folded[host] += groups[k]
        else:
            drawn.append(k)
    return [
        EdgeGroup(
            edge_id=f"e{i}",
            from_id=k[0],
            to_id=k[1],
            category=k[2],
            basis=k[3],
            directed=directed[k],
            rows=tuple(groups[k]),
            folded=tuple(folded.get(k, ())),
        )
        for i, k in enumerate(drawn, start=1)
    ]


def _is_co_residence(key: tuple[str, str, str, str]) -> bool:
    return key[2] == "household" and key[3] == "inferred"


def generations(data: FamilyViewData, edges: list[EdgeGroup]) -> dict[str, int]:
    """A generation (row) per person, 0 at the top: parents one row above their children.

    Walks parent, sibling and partner edges from the child in focus (or the first child);
    people reached only through shared addresses go on their parents' row if adults, else on
    the children's row.
    """
    ids = [p.person_id for p in data.persons]
    role = {p.person_id: p.role for p in data.persons}
    children = [p for p in data.persons if p.role != "adult"]
    root = data.focus_child_id or (
        sorted(children, key=lambda p: (p.dob or date.min, p.person_id), reverse=True)[0].person_id
        if children
        else ids[0]
    )
    steps: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for e in edges:
        if e.category in ("household", "other"):
            continue
        delta = 1 if e.directed else 0
        steps[e.from_id].append((e.to_id, delta))
        steps[e.to_id].append((e.from_id, -delta))
    level: dict[str, int] = {}
    for start in [root, *ids]:
        if start in level or (start != root and not steps.get(start)):
            continue
        if start != root:
            # another component of recorded edges: anchor adults above children
            level[start] = 0 if role[start] != "adult" else -1
        else:
            level[start] = 0
        queue = deque([start])
        while queue:
            here = queue.popleft()
            for there, delta in sorted(steps[here]):
                if there not in level:
                    level[there] = level[here] + delta
                    queue.append(there)
    child_row = level.get(root, 0) if role.get(root) != "adult" else level.get(root, 0) + 1
    for pid in ids:
        if pid not in level:
            level[pid] = child_row if role[pid] != "adult" else child_row - 1
    top = min(level.values())
    return {pid: lvl - top for pid, lvl in level.items()}


def layout(data: FamilyViewData, edges: list[EdgeGroup]) -> dict[str, tuple[int, int]]:
    """Integer (x, y) for each person: one row per generation, ordered to shorten edges."""
    if not data.persons:
        return {}
    level = generations(data, edges)
    rows: dict[int, list[str]] = defaultdict(list)
    start_key = {p.person_id: (p.dob or date.max, p.person_id) for p in data.persons}
    for pid in sorted(level, key=lambda q: start_key[q]):
        rows[level[pid]].append(pid)
    # recorded family ties pull harder than shared addresses
    neighbours: dict[str, dict[str, int]] = defaultdict(dict)
    for e in edges:
        weight = 1 if e.category in ("household", "other") else 3
        for a, b in ((e.from_id, e.to_id), (e.to_id, e.from_id)):
            neighbours[a][b] = max(weight, neighbours[a].get(b, 0))
    pos = {pid: float(i) for row in rows.values() for i, pid in enumerate(row)}
    levels = sorted(rows)
    for sweep in range(6):
        order = levels if sweep % 2 == 0 else list(reversed(levels))
        for lvl in order:
            row = rows[lvl]
            centre = (len(row) - 1) / 2

            def barycentre(
                pid: str, centre: float = centre, lvl: int = lvl
            ) -> tuple[float, float, float, str]:
                def mean(near: dict[str, int]) -> float | None:
                    total = sum(near.values())
                    if not total:
                        return None
                    return round(
                        sum(w * (pos[n] - (len(rows[level[n]]) - 1) / 2) for n, w in near.items())
                        / total,
                        6,
                    )

                here = pos[pid] - centre
                across = mean({n: w for n, w in neighbours[pid].items() if level[n] != lvl})
                along = mean({n: w for n, w in neighbours[pid].items() if level[n] == lvl})
                # rows above/below decide; partners and siblings on the row break ties
                return (
                    here if across is None else across,
                    here if along is None else along,
                    pos[pid],
                    pid,
                )

            row.sort(key=barycentre)
            for i, pid in enumerate(row):
                pos[pid] = float(i)
    for lvl in levels:  # partners and siblings side by side
        row = rows[lvl]
        for pid in list(row):
            mates = sorted(n for n, w in neighbours[pid].items() if level[n] == lvl and w > 1)
            i = row.index(pid)
            if not mates or any(abs(row.index(m) - i) == 1 for m in mates):
                continue
            row.remove(pid)
            j = row.index(mates[0])
            row.insert(j + 1 if i > j else j, pid)
    coords: dict[str, tuple[int, int]] = {}
    y = 0
    focus_level = level[data.focus_child_id] if data.focus_child_id in level else max(levels)
    for lvl in levels:
        row = rows[lvl]
        # a crowded row wraps: people with family ties to other rows go on the sub-row nearest
        # the child in focus, people linked only by an address or on the row further away
        core = [p for p in row if any(w > 1 and level[n] != lvl for n, w in neighbours[p].items())]
        rest = [p for p in row if p not in core]
        parts = [rest, core] if lvl < focus_level else [core, rest]
        if len(row) <= MAX_ROW:
            parts = [row]
        chunks = [chunk for part in parts for chunk in _balanced(part, MAX_ROW)]
        for n, chunk in enumerate(chunks):
            offset = (len(chunk) - 1) / 2 + (0.5 if n % 2 else 0.0)
            for i, pid in enumerate(chunk):
                coords[pid] = (round((i - offset) * X_SPACING), y)
            y += Y_SPACING if n == len(chunks) - 1 else Y_SPACING * 5 // 8
    return coords


def _balanced(items: list[str], most: int) -> list[list[str]]:
    """Split into the fewest near-equal runs of at most ``most`` (7 → 4 + 3, not 6 + 1)."""
    if not items:
        return []
    runs = -(-len(items) // most)
    size = -(-len(items) // runs)
    return [items[i : i + size] for i in range(0, len(items), size)]


def edge_smoothness(
    edges: list[EdgeGroup], coords: dict[str, tuple[int, int]]
) -> dict[str, dict[str, object] | bool]:
    """Straight edges, except parallel ones and long ones along a row, which curve apart."""
    seen: dict[tuple[str, str], int] = defaultdict(int)
    out: dict[str, dict[str, object] | bool] = {}
    for e in edges:
        pair = (min(e.from_id, e.to_id), max(e.from_id, e.to_id))
        n = seen[pair]
        seen[pair] += 1
        (x1, y1), (x2, y2) = coords[e.from_id], coords[e.to_id]
        long_same_row = y1 == y2 and abs(x1 - x2) > 1.5 * X_SPACING
        if n == 0 and not long_same_row:
            out[e.edge_id] = False
            continue
        kind = "curvedCW" if n % 2 == 0 else "curvedCCW"
        out[e.edge_id] = {"enabled": True, "type": kind, "roundness": 0.2 + 0.15 * ((n + 1) // 2)}
    return out
