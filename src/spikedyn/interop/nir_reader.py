"""``read_nir``: a NIR file as a ``nir.NIRGraph``, read from an untrusted file within fixed limits.

nir's own reader (``nir.read``) follows every link and reads every dataset whole, recursing
into nested graphs, and then infers types in time quadratic in the nodes: a crafted file makes
it read other files, inflate gigabytes or never finish. This reader walks the layout nir's
writer makes, and nothing else: the graph group ``/node`` (``type`` "NIRGraph", ``edges``, an
optional ``metadata``) and one group per node under ``/node/nodes`` (its ``type``, the fields
of :data:`~spikedyn.interop.nir_schema.NODE_FIELDS`, an optional ``metadata``). It never
descends further, so nesting costs it nothing: a nested graph is a node type it refuses.
First it checks every object (hard links, storage in the file, filters, types, declared sizes
against :class:`~spikedyn.interop.nir_limits.NIRLimits`, the heap behind its strings: see
:mod:`~spikedyn.interop.hdf5_guard` and :mod:`~spikedyn.interop.hdf5_heap`), then it reads,
then it builds the nodes through nir's own constructors, without nir's type inference (which
spikedyn's importer does not need). A damaged file is a one-line NIRImportError naming it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import h5py
import nir

from spikedyn.interop.hdf5_guard import check_chunks, check_storage, declared_bytes, has, member, names
from spikedyn.interop.hdf5_heap import HeapCheck
from spikedyn.interop.nir_errors import NIRImportError
from spikedyn.interop.nir_limits import NIRLimits
from spikedyn.interop.nir_schema import NODE_FIELDS, NUMBERS_OR_TEXT, Field, unsupported_message


@dataclass
class _Plan:
    """The datasets to read, checked; the bytes they declare in all, their strings included."""

    limits: NIRLimits
    heap: HeapCheck
    total: int = 0
    fields: dict[str, dict[str, h5py.Dataset]] = field(default_factory=dict)
    metadata: dict[str, dict[str, h5py.Dataset]] = field(default_factory=dict)

    def dataset(self, group: h5py.Group, name: str, where: str) -> h5py.Dataset:
        """``group[name]`` checked as a dataset stored in the file, its bytes counted against the file's limit."""
        dataset = member(group, name, where)
        if not isinstance(dataset, h5py.Dataset):
            raise NIRImportError(f"{where} is a group, expected a dataset")
        check_storage(dataset, where)
        self.total += declared_bytes(dataset, where, self.limits)
        if (text := h5py.check_string_dtype(dataset.dtype)) is not None and text.length is None:
            strings = self.heap.string_bytes(dataset, where)
            if strings > self.limits.max_array_bytes:
                raise NIRImportError(f"{where} holds {strings:,} bytes of text, more than NIRLimits.max_array_bytes = "
                                     f"{self.limits.max_array_bytes:,}")  # fmt: skip
            self.total += strings
        if self.total > self.limits.max_total_bytes:
            raise NIRImportError(f"the file declares more than NIRLimits.max_total_bytes = {self.limits.max_total_bytes:,} "
                                 f"bytes of arrays ({self.total:,} by {where})")  # fmt: skip
        return dataset


def _is_text(dataset: h5py.Dataset) -> bool:
    return h5py.check_string_dtype(dataset.dtype) is not None


def _check_kind(dataset: h5py.Dataset, kind: str, where: str) -> None:
    """Refuse a dataset that holds anything but numbers (or, where ``kind`` allows it, one string)."""
    if _is_text(dataset) and kind == NUMBERS_OR_TEXT and dataset.shape == ():
        return
    if dataset.dtype.kind not in "iuf":
        held = "text" if _is_text(dataset) else f"HDF5 type {dataset.dtype}"
        raise NIRImportError(f"{where} holds {held}, expected {'numbers or one string' if kind == NUMBERS_OR_TEXT else 'numbers'}")


def _text(plan: _Plan, group: h5py.Group, name: str, where: str) -> str:
    """The one string of the scalar dataset ``group[name]``."""
    dataset = plan.dataset(group, name, where)
    if not _is_text(dataset) or dataset.shape != ():
        raise NIRImportError(f"{where} must be one string, got shape {dataset.shape} of {dataset.dtype}")
    return _value(dataset, where)


def _value(dataset: h5py.Dataset, where: str) -> Any:
    """The data of a checked dataset: strings decoded, numbers as nir's reader gives them (arrays, numpy scalars)."""
    check_chunks(dataset, where)
    data = dataset[()]
    if isinstance(data, bytes):
        try:
            return data.decode("utf8")
        except UnicodeDecodeError:
            raise NIRImportError(f"{where} is not UTF-8 text") from None
    return data


def _plan_metadata(plan: _Plan, group: h5py.Group, where: str) -> dict[str, h5py.Dataset]:
    """The entries of a metadata group: numbers or single strings (nir writes flat metadata)."""
    entries: dict[str, h5py.Dataset] = {}
    for key in names(group, where):
        dataset = plan.dataset(group, key, f"{where} entry {key!r}")
        if not (_is_text(dataset) and dataset.shape == ()) and dataset.dtype.kind not in "iuf":
            raise NIRImportError(f"{where} entry {key!r} holds {dataset.dtype} of shape {dataset.shape}, expected numbers or one string")
        entries[key] = dataset
    return entries


def _plan_node(plan: _Plan, name: str, group: h5py.Group, kind: str) -> None:
    """Check every field of node ``name`` of type ``kind`` against :data:`NODE_FIELDS`, reading none."""
    schema: dict[str, Field] = NODE_FIELDS[kind]
    where = f"node {name!r} ({kind})"
    datasets: dict[str, h5py.Dataset] = {}
    for key in names(group, where):
        if key == "type":
            continue
        if key == "metadata":
            metadata = member(group, key, f"{where} metadata")
            if not isinstance(metadata, h5py.Group):
                raise NIRImportError(f"{where} metadata is a dataset, expected a group")
            plan.metadata[name] = _plan_metadata(plan, metadata, f"{where} metadata")
        elif key not in schema:
            raise NIRImportError(f"{where} has a field {key!r} that NIR's {kind} lacks (it has {', '.join(schema)})")
        else:
            datasets[key] = plan.dataset(group, key, f"{where} field {key!r}")
            _check_kind(datasets[key], schema[key].kind, f"{where} field {key!r}")
    missing = [key for key, spec in schema.items() if spec.required and key not in datasets]
    if missing:
        raise NIRImportError(f"{where} lacks the field(s) {', '.join(missing)} that NIR's {kind} needs")
    plan.fields[name] = datasets


def _plan_edges(plan: _Plan, graph: h5py.Group) -> h5py.Dataset | None:
    """The edges dataset, checked: E x 2 node names (an empty graph's writer leaves a 0-size array)."""
    edges = plan.dataset(graph, "edges", "the graph's edges")
    if edges.size == 0:
        return None
    if not _is_text(edges) or len(edges.shape) != 2 or edges.shape[1] != 2:
        raise NIRImportError(f"the graph's edges hold shape {edges.shape} of {edges.dtype}, expected (E, 2) node names")
    if edges.shape[0] > plan.limits.max_edges:
        raise NIRImportError(f"the graph has {edges.shape[0]:,} edges, more than NIRLimits.max_edges = {plan.limits.max_edges:,}")
    return edges


def _node(name: str, kind: str, values: dict[str, Any], metadata: dict[str, Any]) -> nir.NIRNode:
    """The nir node of checked ``values``, built by nir's constructors; their own complaints name the node."""
    absent = {key: spec.default for key, spec in NODE_FIELDS[kind].items() if key not in values}  # optional fields left out
    try:
        return nir.dict2NIRNode({"type": kind, **absent, **values, **({"metadata": metadata} if metadata else {})})
    except (AssertionError, ValueError, TypeError, IndexError) as error:
        raise NIRImportError(f"node {name!r} ({kind}) is not a valid NIR {kind}: {error or type(error).__name__}") from None


def _plan_nodes(plan: _Plan, graph: h5py.Group) -> dict[str, str]:
    """Each node's type, once the node count is within the limit and every type is one spikedyn imports."""
    nodes = member(graph, "nodes", "the graph's nodes")
    if not isinstance(nodes, h5py.Group):
        raise NIRImportError("the graph's 'nodes' is a dataset, expected a group of nodes")
    if len(nodes) > plan.limits.max_nodes:
        raise NIRImportError(f"the graph has {len(nodes):,} nodes, more than NIRLimits.max_nodes = {plan.limits.max_nodes:,}")
    groups, kinds = {}, {}
    for name in names(nodes, "the graph's nodes"):
        groups[name] = member(nodes, name, f"node {name!r}")
        if not isinstance(groups[name], h5py.Group) or not has(groups[name], "type"):
            raise NIRImportError(f"node {name!r} is no NIR node (a group with a 'type')")
        kinds[name] = _text(plan, groups[name], "type", f"node {name!r} type")
    refused = [f"{name} ({kind})" for name, kind in kinds.items() if kind not in NODE_FIELDS]
    if refused:
        raise NIRImportError(unsupported_message(refused))
    for name, group in groups.items():
        _plan_node(plan, name, group, kinds[name])
    return kinds


def _plan_graph(plan: _Plan, file: h5py.File) -> tuple[dict[str, str], h5py.Dataset | None, dict[str, h5py.Dataset]]:
    """The graph's node types, its edges and its metadata entries, every object checked and none of its arrays read."""
    root = file["/"]
    if not has(root, "node"):
        raise NIRImportError("the file has no 'node' group: it is no NIR graph file")
    graph = member(root, "node", "the graph group 'node'")
    if not isinstance(graph, h5py.Group) or not all(has(graph, key) for key in ("type", "nodes", "edges")):
        raise NIRImportError("'node' is no NIR graph group (a group with 'type', 'nodes' and 'edges')")
    if (kind := _text(plan, graph, "type", "the graph's type")) != "NIRGraph":
        raise NIRImportError(f"the file holds a single NIR {kind!r}, not a NIRGraph")
    kinds = _plan_nodes(plan, graph)
    edges = _plan_edges(plan, graph)
    if not has(graph, "metadata"):
        return kinds, edges, {}
    metadata = member(graph, "metadata", "the graph's metadata")
    if not isinstance(metadata, h5py.Group):
        raise NIRImportError("the graph's metadata is a dataset, expected a group")
    return kinds, edges, _plan_metadata(plan, metadata, "the graph's metadata")


def _read_graph(file: h5py.File, raw: BinaryIO, limits: NIRLimits) -> nir.NIRGraph:
    """Check the whole file, then read it and build the graph (without nir's type inference)."""
    plan = _Plan(limits, HeapCheck(file, raw))
    kinds, edges, graph_metadata = _plan_graph(plan, file)
    built = {}
    for name, datasets in plan.fields.items():
        where = f"node {name!r} ({kinds[name]}) field"
        values = {key: _value(dataset, f"{where} {key!r}") for key, dataset in datasets.items()}
        metadata = {key: _value(d, f"node {name!r} metadata {key!r}") for key, d in plan.metadata.get(name, {}).items()}
        built[name] = _node(name, kinds[name], values, metadata)
    pairs = [] if edges is None else [tuple(_edge_name(v) for v in row) for row in _value(edges, "the graph's edges")]
    read_metadata = {key: _value(d, f"the graph's metadata entry {key!r}") for key, d in graph_metadata.items()}
    return nir.NIRGraph(nodes=built, edges=pairs, metadata=read_metadata, type_check=False)


def _edge_name(value: bytes | str) -> str:
    return value.decode("utf8", errors="replace") if isinstance(value, bytes) else str(value)


def read_nir(path: str | os.PathLike[str], limits: NIRLimits | None = None) -> nir.NIRGraph:
    """The graph of the NIR file at ``path``; a one-line NIRImportError names what the file holds that is refused."""
    path = Path(os.fspath(path))
    limits = NIRLimits() if limits is None else limits
    if path.is_dir():
        raise NIRImportError(f"{path} is a directory, not a NIR file")
    if not path.exists():
        raise FileNotFoundError(f"no NIR file at {path}")
    try:
        file = h5py.File(path, "r")
    except OSError as error:
        raise NIRImportError(f"{path} is no readable NIR (HDF5) file: {_one_line(error)}") from None
    with file, path.open("rb") as raw:
        try:
            return _read_graph(file, raw, limits)
        except NIRImportError as error:
            raise NIRImportError(f"{path}: {error}") from None
        except (OSError, RuntimeError, KeyError, TypeError, ValueError) as error:  # h5py's errors for a damaged object
            raise NIRImportError(f"{path}: HDF5 cannot read it: {_one_line(error)}") from error


def _one_line(error: Exception) -> str:
    return " ".join(str(error).strip("'\"").split())
